"""WeChat OA dialect tests."""
