"""一站式服务大厅与摄像头: service halls, cameras, stations, uptime, excuses, alerts."""
