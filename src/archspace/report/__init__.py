"""archspace.report"""
