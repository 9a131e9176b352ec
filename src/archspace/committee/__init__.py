"""archspace.committee"""
