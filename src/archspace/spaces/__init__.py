"""archspace.spaces"""
