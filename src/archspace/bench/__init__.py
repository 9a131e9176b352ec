"""archspace.bench"""
