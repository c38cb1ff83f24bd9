"""What a live puppet-service gateway sends, one fixture per kind of message or event.

Each shape is read from the puppet sources named in `source` (wechaty/puppet-padlocal
1.20.1, wechaty/puppet, wechaty/puppet-service); the ids and words are ours. Room messages
have padlocal's "wxid_…:\\n" prefix already removed (message-parser-room.ts does that).
`type` is the wechaty/puppet MessageType number (src/schemas/message.ts).
"""

from __future__ import annotations

from dataclasses import dataclass

PADLOCAL = "wechaty/puppet-padlocal "
PUPPET = "wechaty/puppet "

ALL_MEMBERS = "<every member id>"  # padlocal expands announcement@all into memberIdList


@dataclass(frozen=True)
class MessageFixture:
    type: int
    text: str
    source: str
    mention_ids: tuple[str, ...] = ()
    sender: str = "wxid_alice"
    filename: str = ""


STICKER = MessageFixture(
    5,
    '<msg><emoji fromusername="wxid_alice" tousername="room1@chatroom" type="2" '
    'idbuffer="media:0_0" md5="4cc7540a85b5b6cf4ba14e9f4ae08b7c" len="102357" productid="" '
    'androidmd5="4cc7540a85b5b6cf4ba14e9f4ae08b7c" androidlen="102357" '
    'cdnurl="http://wxapp.tc.qq.com/262/20304/stodownload?m=4cc7540a85b5b6cf4ba14e9f4ae08b7c'
    '&amp;filekey=30340201&amp;hy=SH&amp;storeid=323032" designerid="" thumburl="" '
    'width="240" height="240"></emoji><gameext type="0" content="0"></gameext></msg>',
    PADLOCAL + "src/padlocal/messages/message-emotion.ts; message-parser-type.ts (47 → Emoticon)",
)

ARTICLE = MessageFixture(
    14,
    '<?xml version="1.0"?>\n<msg><appmsg appid="" sdkver="0"><title>读书会第十期：如何读一本书'
    "</title><des>一起读《如何阅读一本书》，资料见文末</des><action /><type>5</type>"
    "<url>https://mp.weixin.qq.com/s/AbCdEf123</url><appattach><totallen>0</totallen>"
    "<attachid /><fileext /></appattach><thumburl>https://mmbiz.qpic.cn/thumb.jpg</thumburl>"
    "</appmsg><fromusername>wxid_alice</fromusername><appinfo><version>1</version>"
    "<appname /></appinfo></msg>",
    PADLOCAL + "src/padlocal/messages/message-appmsg.ts; message-parser-appmsg.ts (5 → Url)",
)

FILE = MessageFixture(
    1,
    '<?xml version="1.0"?>\n<msg><appmsg appid="" sdkver="0"><title>读书笔记.pdf</title><des />'
    "<type>6</type><url /><appattach><totallen>245760</totallen><attachid>@cdn_abc</attachid>"
    "<fileext>pdf</fileext><cdnattachurl>3057020100</cdnattachurl></appattach></appmsg>"
    "<fromusername>wxid_alice</fromusername></msg>",
    PADLOCAL + "src/padlocal/messages/message-appmsg.ts; message-parser-appmsg.ts (6 → "
    "Attachment, filename = title)",
    filename="读书笔记.pdf",
)

MINI_PROGRAM = MessageFixture(
    9,
    '<?xml version="1.0"?>\n<msg><appmsg appid="" sdkver="0"><title>拼团买书，低至五折</title>'
    "<des /><type>33</type><url>https://mp.weixin.qq.com/mp/waerrpage</url>"
    "<sourcedisplayname>当当购物</sourcedisplayname><appattach><cdnthumburl>3057</cdnthumburl>"
    "<cdnthumbaeskey>abc</cdnthumbaeskey></appattach><weappinfo><username>gh_1234@app"
    "</username><appid>wx1234567890</appid><pagepath>pages/index.html</pagepath></weappinfo>"
    "</appmsg><fromusername>wxid_alice</fromusername></msg>",
    PADLOCAL + "src/padlocal/messages/message-miniprogram.ts; message-parser-appmsg.ts "
    "(33/36 → MiniProgram)",
)

QUOTE = MessageFixture(
    7,
    "「Bob：打卡 读完第一章 加我微信 wxid_spam」\n- - - - - - - - - - - - - - -\n/help",
    PADLOCAL + "src/padlocal/schema-mapper/message/message-parser-refermsg.ts",
)

PAT = MessageFixture(
    13,
    '<sysmsg type="pat"><pat><fromusername>wxid_alice</fromusername><chatusername>'
    "room1@chatroom</chatusername><pattedusername>wxid_bot</pattedusername><patsuffix>"
    '<![CDATA[]]></patsuffix><template><![CDATA["${wxid_alice}" 拍了拍我]]></template></pat>'
    "</sysmsg>",
    PADLOCAL + "src/padlocal/messages/sysmsg/message-pat.ts; message-parser-type.ts "
    "(10002 → Recalled); message-parser-sysmsg.ts",
)

RECALL = MessageFixture(
    13,
    '<sysmsg type="revokemsg"><revokemsg><session>room1@chatroom</session><msgid>1057</msgid>'
    "<newmsgid>7425093021934</newmsgid><replacemsg><![CDATA[\"Alice\" 撤回了一条消息]]>"
    "</replacemsg></revokemsg></sysmsg>",
    PADLOCAL + "src/padlocal/messages/sysmsg/message-revokemsg.ts; message-parser-type.ts",
)

SYSTEM_NOTICE = MessageFixture(
    0,
    '"Alice"邀请"Carol"加入了群聊',
    PADLOCAL + "src/padlocal/schema-mapper/message/message-parser-type.ts (10000 → Unknown); "
    "message-parser-room.ts (no 'id:\\n' prefix: talker is the bot itself)",
    sender="wxid_bot",
)

SYSTEM_TEMPLATE = MessageFixture(
    13,
    '<sysmsg type="sysmsgtemplate"><sysmsgtemplate><content_template type="tmpl_type_profile">'
    '<plain><![CDATA[]]></plain><template><![CDATA["$username$"邀请"$names$"加入了群聊]]>'
    '</template><link_list><link name="username" type="link_profile"><memberlist><member>'
    "<username><![CDATA[wxid_alice]]></username><nickname><![CDATA[Alice]]></nickname></member>"
    '</memberlist></link><link name="names" type="link_profile"><memberlist><member><username>'
    "<![CDATA[wxid_carol]]></username><nickname><![CDATA[Carol]]></nickname></member>"
    "</memberlist><separator><![CDATA[、]]></separator></link></link_list></content_template>"
    "</sysmsgtemplate></sysmsg>",
    PADLOCAL + "src/padlocal/messages/sysmsg/message-sysmsgtemplate.ts",
    sender="wxid_bot",
)

LOCATION = MessageFixture(
    8,
    '<?xml version="1.0"?>\n<msg><location x="31.230416" y="121.473701" scale="15" '
    'label="上海市黄浦区人民大道" maptype="roadmap" poiname="人民广场" poiid="" /></msg>',
    PADLOCAL + "src/padlocal/schema-mapper/message/message-parser-type.ts (48 → Location)",
)

IMAGE = MessageFixture(
    6,
    '<?xml version="1.0"?>\n<msg><img aeskey="abc" encryver="1" cdnthumburl="3057" '
    'length="53421" md5="e3b0c442" cdnmidimgurl="3057" /></msg>',
    PADLOCAL + "src/padlocal/schema-mapper/message/message-parser-type.ts (3 → Image)",
)

VOICE = MessageFixture(
    2,
    '<msg><voicemsg endflag="1" length="5120" voicelength="3200" clientmsgid="41" '
    'fromusername="wxid_alice" /></msg>',
    PADLOCAL + "src/padlocal/schema-mapper/message/message-parser-type.ts (34 → Audio)",
)

VIDEO = MessageFixture(
    15,
    '<?xml version="1.0"?>\n<msg><videomsg aeskey="abc" cdnthumburl="3057" length="1048576" '
    'playlength="12" fromusername="wxid_alice" /></msg>',
    PADLOCAL + "src/padlocal/schema-mapper/message/message-parser-type.ts (43 → Video)",
)

CARD = MessageFixture(
    3,
    '<?xml version="1.0"?>\n<msg bigheadimgurl="" smallheadimgurl="" username="wxid_carol" '
    'nickname="Carol" alias="carol2020" province="" city="" sex="2" />',
    PADLOCAL + "src/padlocal/schema-mapper/message/message-parser-type.ts (42 → Contact)",
)

AT_ALL_ANNOUNCEMENT = MessageFixture(
    7,
    "@所有人\n本周六的读书会改到线上，链接稍后发",
    PADLOCAL + "src/padlocal/schema-mapper/message/message-parser-room.ts (announcement@all "
    "→ every member id in mentionIdList)",
    mention_ids=(ALL_MEMBERS,),
)

AT_ALL_NOTIFY = MessageFixture(
    7,
    "@所有人\u2005今晚八点开会",
    PADLOCAL + "src/padlocal/schema-mapper/message/message-parser-room.ts (any other atList, "
    "notify@all included, passed on as it is)",
    mention_ids=("notify@all",),
)

POST = MessageFixture(
    16, "", PUPPET + "src/schemas/message.ts (Post = 16: Moment, Channel, Tweet)")

SYSTEM = MessageFixture(
    18, "你已成为新群主", PUPPET + "src/schemas/message.ts (System = 18: System Message)",
    sender="wxid_bot")

RED_ENVELOPE = MessageFixture(
    12, "", PUPPET + "src/schemas/message.ts (RedEnvelope = 12)")

NEVER_SEEN_TYPE = MessageFixture(
    17, "", PUPPET + "src/schemas/message.ts (17 is unassigned: a future type)")

BROKEN_XML = MessageFixture(
    14, "<msg><appmsg><title>半截的卡片</title><type>5",
    PADLOCAL + "src/padlocal/utils/xml-to-json.ts (xml2js errors are only logged: broken XML "
    "reaches us)")

ENTITY_BOMB = MessageFixture(
    14,
    '<?xml version="1.0"?><!DOCTYPE msg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    "<msg><appmsg><title>&b;</title><type>5</type><url>https://x.example</url></appmsg></msg>",
    "(hostile input, not from a puppet: entity declarations must be refused)",
)

# Event payloads (EventResponse.payload JSON) -----------------------------------------------

ERROR_DATA = {"data": "Error: padlocal request timeout"}
ERROR_DATA_SOURCE = ("python-wechaty-puppet EventErrorPayload(data=…); "
                     "wechaty/puppet src/schemas/event.ts (`data`, deprecated)")
ERROR_GERROR = {"gerror": '{"code":2,"details":"Error: getContact timeout","name":"GError"}'}
ERROR_GERROR_SOURCE = "wechaty/puppet src/schemas/event.ts EventErrorPayload (`gerror`)"

HEARTBEAT = {"data": "heartbeat@padlocal"}
HEARTBEAT_SOURCE = PADLOCAL + "src/puppet-padlocal.ts _startPuppetHeart (every 15 s)"
STREAM_OPEN_HEARTBEAT = {"data": "Wechaty Puppet gRPC stream connect successfully"}
STREAM_OPEN_SOURCE = "wechaty/puppet-service src/server/event-stream-manager.ts start()"

SCAN_WAITING = {"qrcode": "https://login.weixin.qq.com/l/4YvQf3ZxZA==", "status": 2}
SCAN_SOURCE = PADLOCAL + "src/puppet-padlocal.ts onQrCodeEvent (QRCodeStatus.NEW → Waiting)"

LOGOUT_KICKOUT = {"contactId": "wxid_bot", "data": "您已在其他设备登录"}
LOGOUT_SOURCE = PADLOCAL + "src/puppet-padlocal.ts (client 'kickout' → emit logout)"

ROOM_TOPIC_SOURCE = PADLOCAL + "src/padlocal/events/event-room-topic.ts"
ROOM_LEAVE_SOURCE = PADLOCAL + "src/padlocal/events/event-room-leave.ts (otherRemoveYou: " \
    "removeeIdList = [currentUserId])"

MESSAGE_FIXTURES = {
    name: value for name, value in globals().items() if isinstance(value, MessageFixture)
}
