"""archspace.analysis"""
