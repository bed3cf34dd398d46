"""Call records, agents' state intervals and the call reports built on them (呼入量, 接通率, 坐席统计)."""
