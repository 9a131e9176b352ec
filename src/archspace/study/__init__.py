"""archspace.study"""
