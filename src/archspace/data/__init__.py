"""archspace.data"""
