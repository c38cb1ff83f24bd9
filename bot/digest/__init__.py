"""运营日报: each operator's daily direct message about every group they run — figures with
their trend, groups at risk, top words, and a chart. Plugins add their own figures through
their `digest` hook; nothing here names a plugin."""
