"""archspace.train"""
