"""A caller's and an agent's channels of one real call, as Asterisk's AMI events name them."""

CALLER = {
    "Channel": "PJSIP/carrier-00000001",
    "Uniqueid": "h-1.0",
    "Linkedid": "h-1.0",
    "CallerIDNum": "13800138000",
    "CallerIDName": "张三",
    "Exten": "12345",
}
AGENT = {
    "Channel": "PJSIP/1001-00000002",
    "Uniqueid": "h-1.1",
    "Linkedid": "h-1.0",
    "CallerIDNum": "1001",
    "CallerIDName": "坐席1001",
    "Exten": "1001",
}
