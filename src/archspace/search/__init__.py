"""archspace.search"""
