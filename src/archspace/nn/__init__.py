"""archspace.nn"""
