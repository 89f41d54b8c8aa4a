"""服务事项台账: first-inquiry responsibility (首问负责), time-limited completion (限时办结),
ratings and call-backs (好差评 · 回访) for the village one-stop service halls."""
