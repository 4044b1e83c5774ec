"""The triage lexicon: what words in a patient's or family member's message point to each category.

Written for VitalGate from the categories of issue 15 and the symptoms a home glucose/BP programme
must never miss (ACC/AHA chest-pain and stroke warning signs, ADA hypoglycaemia symptoms, the
BP crisis and DKA warning signs). English patterns are regular expressions matched on word
boundaries of a lower-cased, NFKC-normalised text; Chinese patterns are matched as substrings (the
text has no word boundaries). A weight of 3 is decisive on its own; 1 is a hint.

Urgent patterns are deliberately broad: the cost of a false urgent is a nurse's call, the cost of a
missed one can be a life. Fillers inside Chinese patterns are listed explicitly (no wildcards), so
"胸口不痛" never matches "胸口…痛".
"""

from __future__ import annotations

from vitalgate.notify.triage.category import TriageCategory

U, M, D, L, E = (
    TriageCategory.URGENT_CLINICAL,
    TriageCategory.MEDICATION,
    TriageCategory.DEVICE,
    TriageCategory.LOGISTICS,
    TriageCategory.EDUCATION,
)

_POSS = r"(?:my|his|her|the|their)"

# (category, weight, pattern)
ENGLISH: tuple[tuple[TriageCategory, float, str], ...] = (
    # chest pain and heart
    (U, 3, r"chest\s*(?:pains?|hurts?|hurting|tight(?:ness)?|pressure|discomfort|ache)"),
    (U, 3, rf"(?:pain|pressure|tightness|ache|heaviness)\s+(?:in|on)\s+{_POSS}?\s*chest"),
    (U, 3, rf"{_POSS}\s+chest\s+(?:is|has been|was|keeps)\s+(?:hurting|tight|aching|painful|heavy)"),
    (U, 3, r"tight\s+feeling\s+in\s+\w*\s*chest|crushing|heart\s+attack"),
    (U, 2, r"heart\s+(?:is\s+)?(?:racing|pounding)|palpitations?"),
    (U, 3, r"heart\s+(?:hurts|is\s+hurting|pain)"),
    # fainting, consciousness
    (U, 3, r"faint(?:ed|ing)?|pass(?:ed|ing)?\s+out|black(?:ed|ing)?\s+out|collaps(?:e|ed|ing)"),
    (U, 3, r"unconscious|unresponsive|hard\s+to\s+wake|can'?t\s+wake|cannot\s+wake|won'?t\s+wake"),
    (U, 3, r"drowsy|mumbles|not\s+answering\s+properly"),
    # confusion, stroke signs
    (U, 3, r"confus(?:ed|ion)|disoriented|not\s+making\s+sense|cannot\s+think|can'?t\s+think"),
    (U, 3, r"doesn'?t\s+recogni[sz]e|not\s+recogni[sz]ing|keeps\s+asking\s+the\s+same"),
    (U, 3, r"stroke|slurr(?:ed|ing)|droop(?:y|ing)?|talking\s+funny|words\s+are\s+coming\s+out\s+wrong"),
    (
        U,
        3,
        r"numb(?:ness)?\s+(?:on|in)\s+(?:the\s+)?(?:left|right|one)\s+side|one\s+side\s+(?:of\s+)?\w*\s*(?:weak|numb)",
    ),
    (U, 3, rf"can'?t\s+(?:lift|move|raise)\s+{_POSS}?\s*\w*\s*(?:arm|leg|hand)"),
    # breathing
    (U, 3, r"short(?:ness)?\s+of\s+breath|can'?t\s+breathe|cannot\s+breathe|trouble\s+breathing"),
    (U, 3, r"difficulty\s+breathing|breathless|gasping|struggling\s+to\s+breathe|lips\s+(?:look\s+|are\s+)?blue"),
    (U, 3, r"can'?t\s+finish\s+a\s+sentence"),
    # low glucose and its symptoms, DKA
    (U, 3, r"shak(?:y|ing)|trembl(?:ing|y)|sweat(?:y|ing)|drenched|clammy|glucagon"),
    (U, 3, r"dizz(?:y|iness)|light\s*headed|room\s+is\s+spinning|almost\s+fell"),
    (U, 2, r"hypo(?:s)?\b|low\s+again|very\s+low|(?:sugar|glucose)\s+(?:is\s+)?(?:very\s+|really\s+|too\s+)?low"),
    (U, 3, r"throwing\s+up|vomit(?:ing|ed)?|can'?t\s+keep\s+anything\s+down|ketones?"),
    (U, 3, r"feel(?:ing)?\s+(?:very\s+|really\s+)?(?:weak|awful|terrible|very\s+strange)"),
    # seizure, head injury, bleeding, allergy, headache, vision, self-harm, emergency services
    (U, 3, r"seizure|convuls\w*|fit\b"),
    (U, 3, r"hit\s+(?:his|her|my)\s+head|fell\s+(?:and|down|over)|had\s+a\s+fall"),
    (U, 3, r"vomited\s+blood|blood\s+in\s+(?:vomit|stool)|bleeding\s+heavily"),
    (U, 3, r"(?:lips|throat|tongue|face)\s+(?:\w+\s+)?(?:are\s+|is\s+)?swell(?:ing)?|throat\s+closing"),
    (U, 3, r"worst\s+(?:headache|of\s+my\s+life)|pounding\s+headache|terrible\s+headache|vision\s+is\s+blurry"),
    (U, 3, r"don'?t\s+want\s+to\s+live|want\s+to\s+die|kill\s+myself|end\s+it\s+all|suicid\w*"),
    (U, 3, r"911|999|ambulance|\ber\b|emergency\s+room|a\s*&\s*e"),
    (U, 2, r"not\s+(?:him|her)self|something(?:'s|\s+is)\s+(?:wrong|off)\s+with\s+(?:him|her|my|dad|mom|mum)"),
    # medication
    (M, 3, r"insulin\w*|metformin|lantus|novorapid|humalog|ozempic|jardiance|glipizide|sitagliptin"),
    (M, 3, r"amlodipine|lisinopril|losartan|warfarin|aspirin|atorvastatin|ibuprofen|statin"),
    (M, 3, r"dos(?:e|es|age|ing)|refill|prescription|script|pharmacy|side\s+effects?|\d+\s*mg\b"),
    (M, 2, r"pills?|tablets?|medicines?|medications?|meds\b|inject(?:ion|ed)?|units?\b|syrup"),
    (M, 1, r"double\s+up|take\s+it|taking|forgot\s+to\s+take|split"),
    # device
    (D, 3, r"meter|glucometer|strips?|lancets?|cuff|monitor|hub|gateway|the\s+box|device|machine"),
    (D, 3, r"bluetooth|pair(?:ing|ed)?|sync(?:ing|ed)?|upload(?:ing|ed)?|wifi|offline|batter(?:y|ies)|charger"),
    (D, 3, r"\bapp\b|log(?:ging)?\s+(?:me\s+)?(?:in|out)|password|install|screen|err(?:or)?\b|e-\d"),
    (D, 2, r"blinking|beeps?|not\s+working|broken|cracked|turn(?:ing|s)?\s+(?:itself\s+)?(?:on|off)"),
    (D, 2, r"link\b|reading\s+on\s+the\s+app|symbol|inflate|delete"),
    # logistics
    (L, 3, r"appointments?|appt|reschedul\w*|rebook|book\b|visit|clinic|check-?up|cancel"),
    (L, 4, r"insurance|bill\b|invoice|reimburse\w*|copay"),
    (L, 3, r"sick\s+note|paperwork|form\b|permit"),
    (L, 2, r"park(?:ing)?\b|address|bus\b|train|drive\b|directions|entrance|phone\s+(?:hours|number)"),
    (L, 2, r"what\s+time|open\s+on|away\s+for|moving|transfer\s+care|lab\s+results|fast\s+before"),
    (L, 1, r"travel(?:l?ing)?|bring\b"),
    (L, 1, r"next\s+(?:week|tuesday|monday|visit)|scheduling|tomorrow|confirm"),
    # education / general
    (E, 2, r"can\s+i\s+eat|diet|food|fruit|rice|bread|snacks?|biscuits?|honey|juice|wine|coffee|salt"),
    (E, 2, r"pack\b|exercis\w*|walking|jogging|swimming|weight|normal|tips|advice|how\s+often|how\s+much"),
    (E, 2, r"what\s+does|mean\b|hba1c|a1c|signs\s+of|prevent|stress|fast(?:ing)?\s+during|feet"),
    (E, 1, r"thank(?:s|\s+you)|good\s+morning|everything\s+is\s+fine|got\s+it|is\s+it\s+ok"),
)

CHINESE: tuple[tuple[TriageCategory, float, str], ...] = (
    # chest pain and heart
    (
        U,
        3,
        r"(?:胸|凶|心口)(?:口|部)?(?:就|有|还|又)?(?:有点|有些|很|好|一直|老是|突然|特别)?(?:痛|疼|闷|发紧|紧|压迫|不舒服|难受)",
    ),
    (U, 3, r"胸痛|胸闷|心绞痛|心梗|心脏病|心脏(?:疼|痛|不舒服)|压了块|压着|石头一样|心口|憋得慌"),
    (U, 2, r"心跳(?:很|特别|好)?快|心慌|心悸"),
    # fainting, consciousness
    (U, 3, r"晕倒|昏倒|昏过去|晕过去|晕了|昏迷|不省人事|眼前一黑|叫不醒|叫不太醒|不怎么应|只是哼哼|嗜睡"),
    # confusion, stroke signs
    (U, 3, r"糊涂|糊里糊涂|迷迷糊糊|说胡话|认不出|神志不清|意识不清|答非所问|颠三倒四|反应不过来|重复问|意识模糊"),
    (U, 3, r"中风|脑梗|脸歪|嘴歪|嘴角歪|口角歪|说话不清|说话含糊|口齿不清|大舌头|抬不起来|动不了|半边|发麻"),
    # breathing
    (U, 3, r"喘不(?:过|上)(?:来)?气|上不来气|透不过气|呼吸困难|气短|憋气|喘得厉害|嘴唇发紫"),
    # low glucose and its symptoms, DKA
    (U, 3, r"手抖|发抖|冷汗|出汗|没劲|没力气|浑身无力|缓过来"),
    (U, 3, r"头晕|头昏|眩晕|天旋地转|差点摔倒|眼花"),
    (U, 2, r"低血糖|又低了|血糖(?:很|特别|太|有点)?低"),
    (U, 3, r"一直吐|吐了|呕吐|吃不进去|酮体|烂苹果"),
    # seizure, head injury, bleeding, allergy, headache, vision, self-harm, emergency services
    (U, 3, r"抽搐|抽风|羊癫疯|摔了一跤|摔倒了|跌倒|磕到头|吐血|便血|黑便|大出血"),
    (U, 3, r"(?:嘴唇|喉咙|舌头|脸)(?:和喉咙)?(?:都)?肿|头痛欲裂|头疼得厉害|剧烈头痛|看东西模糊|看不见"),
    (U, 3, r"不想活|想死|活着没意思|轻生|自杀"),
    (U, 3, r"打120|叫120|拨120|急诊|救护车|急救"),
    # a family member's vague alarm about a person: a nurse should ask
    (U, 2, r"(?:人|妈|爸|爷爷|奶奶|老伴|老人|他|她)[^，,。.!！?？]{0,4}(?:不对劲|不太对|不对头|不正常)"),
    # medication
    (M, 3, r"胰岛素|胰导素|二甲双胍|格列|达格列净|西格列汀|拜糖平|阿卡波糖|诺和锐|司美格鲁肽|甘精"),
    (M, 3, r"降压药|降糖药|氨氯地平|缬沙坦|硝苯地平|华法林|阿司匹林|阿托伐他汀|布洛芬|他汀|糖浆"),
    (M, 3, r"漏服|漏打|忘了吃|忘吃|吃药|吃了两遍|停药|减量|加量|加点药|处方|开药|配药|副作用|剂量"),
    (M, 2, r"药|单位|片|毫克|打针|打一次|打两次|打几个"),
    # device
    (D, 3, r"血糖仪|血糖议|血压计|仪器|机器|设备|试纸|采血针|袖带|网关|盒子|蓝牙|配对|同步|上传"),
    (D, 3, r"电池|充电|没电|报错|错误|err|e-\d|屏幕|黑屏|开不了机|关机|app|小程序|登录|密码|wifi|掉线"),
    (D, 3, r"单位(?:变|换|改)|(?:units?|mmol|mg)\s+(?:changed|instead)"),
    (D, 2, r"链接|打不开|坏了|闪红灯|不工作|漏气|充不起来|符号|删掉|显示"),
    # logistics
    (L, 3, r"预约|预越|复诊|复查|改时间|改期|改到|挂号|加个号|门诊|取消|来不了|去不了|重新约|约在|随访"),
    (L, 4, r"医保|报销|账单|发票|费用"),
    (L, 3, r"病假条|证明|表格|停车|地址|怎么走|公交|上门|转诊|化验单|电话号码"),
    (L, 1, r"要带|带上|带着"),
    (L, 2, r"几点|多长时间|出远门|搬|空腹|约时间|哪个门|开门|陪我|确认一下|电话几点|没人接"),
    # education / general
    (E, 2, r"能吃|可以吃|能不能吃|吃什么|饮食|水果|西瓜|米饭|糙米|馒头|饼干|蜂蜜|果汁|红酒|喝酒|咖啡|盐|加餐"),
    (E, 2, r"运动|跑步|游泳|走多少步|锻炼|多重|体重|正常|多少算|是什么意思|糖化|表现|预防|护理|注意"),
    (E, 2, r"为什么|压力大|睡不好|量一次|怎么量|饭前测|饭后测|要带什么"),
    (E, 1, r"谢谢|早上好|一切都好|收到|好的"),
)

# Words that turn a following symptom into its absence ("no chest pain", "没有胸痛").
ENGLISH_NEGATIONS = (
    r"no|not|never|without|denies|deny|nor|none|"
    r"don'?t\s+have|doesn'?t\s+have|didn'?t\s+have|haven'?t\s+had|hasn'?t\s+had|free\s+of|no\s+more"
)
# Negation words that are not negations ("not sure if it's chest pain").
ENGLISH_PSEUDO_NEGATIONS = r"not\s+(?:sure|certain|only)|no\s+idea|no\s+doubt"
CHINESE_NEGATIONS = r"没有|没|无|不|未|并未|否认|不再"
CHINESE_PSEUDO_NEGATIONS = r"不知道|不确定|不清楚|会不会|是不是|有没有|要不要|说不清|不太清楚|不舒服"

# Clause breaks end a negation's reach ("no fever, chest pain since noon").
ENGLISH_CLAUSE_BREAK = r"[.,;:!?\n]|\bbut\b|\bhowever\b|\bthough\b|\balthough\b|\bexcept\b|\band\s+now\b"
CHINESE_CLAUSE_BREAK = r"[，,。.；;：:！!？?\s、]|但是|但|不过|可是|就是|只是"

# Questions about a symptom in general, not reports of having it ("how to prevent hypos").
EDUCATION_FRAMES = (
    r"how\s+(?:can|do)\s+i\s+prevent|signs\s+of|what\s+is\s+a|symptoms\s+of|"
    r"怎么预防|如何预防|有哪些表现|什么是"
)
