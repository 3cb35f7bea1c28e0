"""Insight for managers: the per-council report (:mod:`bot.insight.report`), its queries
(:mod:`bot.insight.queries`), CSV (:mod:`bot.insight.formats`) and SVG charts
(:mod:`bot.insight.charts`). It reads the desk's and access's tables and sits above both."""
