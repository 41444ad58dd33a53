"""Job-title normalisation and query expansion with a job-vocabulary lexicon.

Job postings name occupations in the words of the labour market (``Java开发工程师``, ``出纳``,
``外卖骑手``, ``Sr. DevOps Engineer``); classifications such as the 职业分类大典 or O*NET name
them in their own formal vocabulary (``计算机程序设计员``, ``会计专业人员``, ``网约配送员``,
"Network and Computer Systems Administrators").  A short title shares few characters or words
with the right entry, and often more with a wrong one (``货车司机`` meets ``轨道交通列车司机`` on
``司机``, never on ``道路货运汽车驾驶员``).  Two pure, data-light steps bridge the gap:

1. ``normalize_title``: strips what a title says about the post rather than the occupation —
   bracketed notes (``（兼职）``, ``(急聘)``), recruiting phrases (``包吃住``, ``五险一金``),
   seniority and status affixes (``高级``, ``资深``, ``实习生``, ``Senior``, ``Jr.``, ``Intern``,
   ``II``) and generic rank or role suffixes (``工程师``, ``专员``, ``助理``, ``主管``, ``经理``,
   ``顾问``) — keeping the head noun (``Java开发``, ``客服``, ``销售``).  A suffix is only removed
   when at least two characters remain, so ``总经理`` or ``店长`` stay whole.
2. ``expand``: finds lexicon words in the query (longest match first, non-overlapping; Latin
   keys only as whole words) and returns the normalised title followed by the classification
   vocabulary of every word found (``司机`` → ``驾驶员``, ``货车`` → ``道路货运 汽车``, ``rn`` →
   ``registered nurse``).

``CatalogIndex`` scores the expansion as its own named contribution with a lower weight than the
original text, so the expansion can pull the right entries up but never replaces what the need
says.  When the query holds no lexicon word and nothing to normalise, ``expand`` returns ``None``
and the ranking is exactly that of the plain text.

``JOB_LEXICON`` was written by hand for this project from general knowledge of Chinese and
English job-posting language and of the classifications' naming conventions (about 400
entries); it is not derived from any other dataset.  Values are plain space-separated words in
the target vocabulary; entries may be added or a different lexicon passed in by the caller
(``JobTitleExpander(lexicon=...)``), and a lexicon may mix scripts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from matching.scoring.text import normalize

__all__ = ["JOB_LEXICON", "JobTitleExpander", "normalize_title"]

# --- the lexicon ------------------------------------------------------------------------------

_ZH: dict[str, str] = {
    # software and IT
    "程序员": "计算机程序设计员 软件 程序 代码",
    "码农": "计算机程序设计员 软件 程序 代码",
    "编程": "计算机程序设计员 程序 代码",
    "开发工程师": "计算机程序设计员 软件 程序设计 开发",
    "软件开发": "计算机程序设计员 软件 程序设计 开发",
    "研发工程师": "研发 开发 工程技术人员",
    "前端": "计算机程序设计员 软件 程序 网页 开发",
    "后端": "计算机程序设计员 软件 程序 服务器 开发",
    "全栈": "计算机程序设计员 软件 程序 开发",
    "小程序": "计算机程序设计员 移动终端 应用程序 开发",
    "安卓": "计算机程序设计员 移动终端 应用程序 开发",
    "游戏开发": "计算机程序设计员 游戏 软件 开发",
    "软件测试": "计算机软件测试员 软件 测试",
    "测试工程师": "计算机软件测试员 软件 测试",
    "自动化测试": "计算机软件测试员 软件 测试",
    "功能测试": "计算机软件测试员 软件 测试",
    "测试开发": "计算机软件测试员 软件 测试",
    "运维": "信息系统运行维护 运行维护 系统管理 信息系统 维护",
    "网管": "信息通信信息化系统管理员 网络 系统管理 运行维护",
    "技术支持": "信息系统运行维护 技术 维护 故障 排除",
    "桌面运维": "计算机维修 信息系统 运行维护",
    "实施工程师": "信息系统 安装 配置 调试",
    "数据库": "数据库运行管理员 数据库",
    "网络安全": "信息安全 网络与信息安全",
    "安全工程师": "安全 工程技术人员",
    "渗透": "信息安全测试员 信息安全 测试 漏洞",
    "等保": "信息安全 网络与信息安全",
    "算法": "人工智能 算法 模型",
    "机器学习": "人工智能 算法 模型 机器学习",
    "深度学习": "人工智能 算法 模型 深度学习",
    "人工智能": "人工智能 算法",
    "数据标注": "人工智能训练师 数据 标注",
    "标注员": "人工智能训练师 数据 标注",
    "数据分析": "数据分析处理 商务数据分析 数据 分析",
    "数据开发": "大数据 数据",
    "数仓": "大数据 数据仓库",
    "单片机": "嵌入式 系统 设计",
    "硬件工程师": "计算机硬件 电子 硬件",
    "芯片": "集成电路 半导体 芯片",
    "ic设计": "集成电路 设计",
    "云计算": "云计算 云",
    "区块链": "区块链",
    "物联网": "物联网",
    "it": "信息技术 计算机 信息系统",
    "电脑维修": "计算机维修工 计算机 维修",
    # design, media and internet
    "ui": "视觉传达设计 数字媒体艺术 界面 设计",
    "ue": "数字媒体艺术 交互 设计",
    "ux": "数字媒体艺术 交互 设计",
    "交互设计": "数字媒体艺术 交互 设计",
    "视觉设计": "视觉传达设计 设计",
    "平面设计": "视觉传达设计 装潢美术设计 广告设计 平面",
    "美工": "装饰美工 视觉传达设计 广告设计 美术 设计",
    "原画": "动画设计 美术 绘画 游戏",
    "插画": "美术 绘画 视觉传达设计 动画设计",
    "建模": "动画设计 数字媒体艺术 三维",
    "三维": "动画设计 数字媒体艺术 三维",
    "新媒体": "全媒体运营师 网络 媒体 运营 内容",
    "自媒体": "全媒体运营师 网络 媒体 内容",
    "公众号": "全媒体运营师 网络编辑 内容",
    "短视频": "全媒体运营 视频 剪辑 网络",
    "主播": "互联网营销师 直播 网络 销售 营销",
    "带货": "互联网营销师 直播 销售 营销",
    "直播": "互联网营销师 直播 网络",
    "网红": "互联网营销师 直播 网络",
    "达人": "互联网营销师 网络",
    "电商": "电子商务师 电子商务 网店 网络 销售",
    "淘宝": "电子商务 网店 网络 销售",
    "网店": "电子商务 网店",
    "跨境电商": "电子商务 国际商务 进出口",
    "客服": "客户服务管理员 呼叫中心服务员 客户服务 咨询 投诉 受理",
    "售后": "客户服务 售后 维修 投诉",
    "话务": "呼叫中心服务员 话务 电话 咨询",
    "接线员": "呼叫中心服务员 话务 电话",
    "小编": "网络编辑 编辑 内容",
    "剪辑": "剪辑师 剪辑 视频",
    "后期": "剪辑 后期 制作",
    "电竞": "电子竞技 电子竞技员",
    "文案": "文字编辑 文字 策划 撰写",
    "seo": "网络 营销 推广 搜索",
    "推广": "营销 推广 市场",
    # finance, office and administration
    "出纳": "会计 出纳 现金 收付 结算",
    "财务": "会计 财务 核算",
    "记账": "会计 核算 账簿",
    "总账": "会计 核算",
    "税务": "涉税服务 税务 纳税",
    "报税": "涉税服务 税务 纳税",
    "审计": "审计",
    "柜员": "银行综合柜员 银行 柜面 业务",
    "理财": "金融产品销售 银行客户业务员 理财 金融产品",
    "信贷": "银行信贷员 信贷 贷款",
    "贷款": "银行信贷员 信贷 贷款",
    "催收": "信用管理 催收 欠款",
    "风控": "风险管理师 风险 控制",
    "保险销售": "保险代理人 保险 销售",
    "证券": "证券 金融",
    "文员": "办事员 行政办事员 秘书 文书 办公",
    "行政": "行政办事员 行政事务 办公",
    "前台": "接待 前厅 行政办事员",
    "内勤": "行政办事员 办公 文书",
    "人事": "人力资源 企业人力资源管理师 员工",
    "hr": "人力资源 企业人力资源管理师",
    "hrbp": "人力资源 企业人力资源管理师",
    "猎头": "人力资源服务 招聘",
    "招聘": "招聘师 招聘 人力资源",
    "培训": "职业培训师 培训",
    "讲师": "培训 教学 教师",
    "法务": "法律顾问 法律 合同",
    "律师助理": "律师 法律",
    "翻译": "翻译",
    "英语翻译": "翻译 外语 英语",
    "录入": "打字员 文字 录入 数据",
    "打字": "打字员 文字 录入",
    "统计": "统计 调查",
    "档案": "档案 管理",
    "采购": "采购员 采购 招标采购",
    # sales, retail and marketing
    "销售": "营销员 销售 推销 客户",
    "业务员": "营销员 销售 业务",
    "电销": "营销员 电话 销售",
    "电话销售": "营销员 电话 销售",
    "地推": "营销员 推广 销售",
    "置业顾问": "房地产经纪人 房屋 销售 房地产",
    "房产": "房地产 房屋",
    "房地产": "房地产 房屋",
    "中介": "经纪人 经纪 代理",
    "经纪人": "经纪人 经纪 代理",
    "导购": "商品营业员 营业员 销售 商品 顾客",
    "店员": "商品营业员 营业员 商品 顾客",
    "营业员": "营业员 商品 顾客",
    "收银": "收银员 收银 结算",
    "理货": "理货员 商品 货物 陈列",
    "店长": "连锁经营管理师 门店 店铺 经营管理",
    "门店": "连锁经营 门店",
    "市场专员": "市场营销 市场 营销",
    "市场营销": "市场营销 营销",
    "品牌": "品牌 推广",
    "策划": "策划",
    "活动策划": "商务策划 会展策划 活动",
    "广告": "广告设计 广告",
    "外贸": "国际商务 进出口 外贸 贸易",
    "报关": "报关 进出口 海关",
    "招投标": "招标采购 招标 投标",
    "招标": "招标采购 招标 投标",
    "二手车": "二手车经纪人 二手车 车辆",
    # transport, logistics and delivery
    "司机": "驾驶员 驾驶 机动车",
    "驾驶": "驾驶员 驾驶",
    "货车": "道路货运汽车驾驶员 货运 货物运输 汽车",
    "卡车": "道路货运汽车驾驶员 货运 货物运输 汽车",
    "大车": "道路货运汽车驾驶员 货运 货物运输 汽车",
    "重卡": "道路货运汽车驾驶员 货运 货物运输 汽车",
    "半挂": "道路货运汽车驾驶员 货运 货物运输 汽车",
    "冷链": "冷藏 货运 物流",
    "网约车": "客运车辆驾驶员 出租汽车 乘客 客运",
    "滴滴": "客运车辆驾驶员 出租汽车 乘客 客运",
    "出租车": "客运车辆驾驶员 出租汽车 乘客 客运",
    "的士": "客运车辆驾驶员 出租汽车 乘客 客运",
    "公交": "客运车辆驾驶员 公共汽车 乘客 客运",
    "大巴": "客运车辆驾驶员 客车 旅客 客运",
    "客车": "客运车辆驾驶员 客车 旅客 客运",
    "班车": "客运车辆驾驶员 客车 旅客",
    "代驾": "汽车代驾员 代驾",
    "叉车": "专用车辆驾驶员 起重装卸机械 叉车 装卸 搬运",
    "铲车": "挖掘铲运 装载机 机械 司机",
    "装载机": "挖掘铲运 装载机 机械 司机",
    "挖机": "挖掘铲运和桩工机械司机 挖掘机",
    "挖掘机": "挖掘铲运和桩工机械司机 挖掘机",
    "塔吊": "起重装卸机械操作工 起重 塔式起重机",
    "吊车": "起重装卸机械操作工 起重",
    "行车工": "起重装卸机械操作工 起重 桥式起重机",
    "地铁": "城市轨道交通 轨道交通 列车",
    "高铁": "铁路 列车 动车组",
    "动车": "铁路 列车 动车组",
    "火车": "铁路 列车",
    "空姐": "民航乘务员 客舱 乘务 航空",
    "空乘": "民航乘务员 客舱 乘务 航空",
    "飞行员": "飞行驾驶员 航空器 驾驶",
    "机长": "飞行驾驶员 航空器 驾驶",
    "船员": "船舶 甲板 轮机 水手",
    "海员": "船舶 甲板 轮机 水手",
    "水手": "船舶 甲板 水手",
    "骑手": "网约配送员 配送 订单 递送",
    "外卖": "网约配送员 配送 订单 递送 餐饮",
    "跑腿": "网约配送员 配送 订单 递送",
    "配送": "配送 递送 网约配送员",
    "送货": "配送 递送 货物",
    "快递": "快递员 快件 收寄 投递",
    "分拣": "分拣 快件处理员 邮件分拣员",
    "仓管": "仓储管理员 仓库 仓储 货物 出入库",
    "库管": "仓储管理员 仓库 仓储 货物 出入库",
    "仓库": "仓储 仓库 货物",
    "物流": "物流 运输 仓储",
    "搬运": "装卸搬运工 搬运 装卸",
    "装卸": "装卸搬运工 搬运 装卸",
    "调度": "调度 运输 车辆",
    "货代": "货运代理服务员 货运 代理",
    "飞手": "无人机驾驶员 无人机 驾驶",
    "无人机": "无人机驾驶员 无人机",
    "供应链": "供应链管理师 供应链",
    "安检": "安检员 安全检查",
    "门卫": "保安员 门卫 守护",
    "收费员": "收费 公路收费及监控员",
    "售票": "客运售票员 售票",
    # food and hospitality
    "厨师": "烹调师 中式烹调师 西式烹调师 烹饪 菜肴",
    "大厨": "烹调师 中式烹调师 烹饪 菜肴",
    "主厨": "烹调师 烹饪 菜肴",
    "厨工": "中式烹调师 烹饪 原料 切配",
    "帮厨": "中式烹调师 烹饪 原料 切配",
    "切配": "中式烹调师 烹饪 原料 切配",
    "配菜": "中式烹调师 烹饪 原料 切配",
    "打荷": "中式烹调师 烹饪 原料",
    "炒锅": "中式烹调师 烹饪 菜肴",
    "中餐": "中式烹调师 中式 菜肴",
    "西餐": "西式烹调师 西式 菜肴",
    "日料": "烹调师 烹饪 菜肴",
    "面点": "中式面点师 西式面点师 面点",
    "烘焙": "糕点面包烘焙师 西式面点师 烘焙 面包 糕点",
    "蛋糕": "糕点面包烘焙师 糕点 蛋糕",
    "裱花": "糕点装饰师 糕点 装饰 裱花",
    "传菜": "餐厅服务员 餐饮 菜品",
    "服务员": "服务员",
    "奶茶": "调饮师 饮品 饮料",
    "饮品": "调饮师 饮品 饮料",
    "咖啡": "咖啡师 咖啡",
    "调酒": "调酒师 酒",
    "酒店": "旅店 住宿 宾馆 前厅 客房",
    "宾馆": "旅店 住宿 客房",
    "餐饮": "餐饮 餐厅",
    "营养": "营养师 营养 膳食",
    # residents' and personal services
    "月嫂": "家政服务员 母婴 孕妇 产妇 婴儿 照护",
    "育儿嫂": "家政服务员 婴幼儿 照护 保育",
    "保姆": "家政服务员 家务 照护 家庭",
    "钟点工": "家政服务员 家务 清洁",
    "家政": "家政服务员 家政 家务",
    "阿姨": "家政服务员 保洁",
    "保洁": "保洁员 保洁 清洁",
    "清洁工": "保洁员 清洁",
    "护工": "医疗护理员 养老护理员 护理员 照护 患者",
    "陪护": "医疗护理员 照护 患者 陪护",
    "陪诊": "医疗临床辅助服务员 患者 就医",
    "养老": "养老护理员 老年人 照护",
    "护理员": "护理员 照护",
    "美容": "美容师 美容 皮肤",
    "美发": "美发师 发型",
    "理发": "美发师 理发 发型",
    "发型": "美发师 发型",
    "美甲": "美甲师 美甲",
    "美睫": "美容师 美甲师",
    "足疗": "保健按摩师 修脚师 足部 按摩",
    "足浴": "保健按摩师 足部 按摩",
    "按摩": "保健按摩师 按摩",
    "推拿": "中医推拿 保健按摩师 推拿 按摩",
    "化妆": "化妆师 化妆 形象",
    "婚礼": "婚礼策划师 婚礼",
    "婚庆": "婚礼策划师 婚礼",
    "宠物医生": "宠物医师 宠物 诊疗",
    "宠物": "宠物",
    "保安": "保安员 安全 守护 巡逻",
    "物业": "物业管理师 物业 管理",
    "停车": "停车管理员 停车场 车辆",
    "绿化": "园林绿化工 绿化 植物 养护",
    "园艺": "园艺 园林",
    "洗衣": "洗衣师 衣物 洗涤",
    "摄影": "摄影师 摄影 拍摄",
    "导游": "导游 旅游",
    "领队": "旅游团队领队 旅游",
    "健身": "社会体育指导员 健身 教练员 运动 指导",
    "私教": "社会体育指导员 健身 教练员 指导",
    "瑜伽": "社会体育指导员 健身 指导",
    "教练": "教练员 指导",
    "救生": "救生员 游泳",
    "管家": "民宿管家 管家 接待",
    "民宿": "民宿管家 民宿",
    # education
    "幼师": "幼儿园教师 幼儿 保育 教育",
    "幼教": "幼儿园教师 幼儿 教育",
    "保育员": "保育师 幼儿 保育",
    "早教": "婴幼儿发展引导员 婴幼儿 早期 发展",
    "老师": "教师 教学",
    "教师": "教师 教学",
    "小学": "小学教师 小学",
    "初中": "初级中学教师 初级中学",
    "高中": "高级中学教师 高级中学",
    "大学": "普通高等学校教师 高等学校",
    "高校": "普通高等学校教师 高等学校",
    "职校": "中等职业学校教师 高等职业学校教师 职业学校",
    "中职": "中等职业学校教师 职业学校",
    "技校": "中等职业学校教师 职业学校 技工",
    "高职": "高等职业学校教师 职业学校",
    "特教": "特殊教育教师 特殊教育",
    "驾校": "机动车驾驶教练员 驾驶 教练",
    "家教": "教师 辅导 学生",
    "助教": "教师 教学 辅助",
    "辅导员": "教师 学生 辅导",
    "社工": "社会工作者 社会工作",
    "心理咨询": "心理咨询师 心理",
    # health
    "医生": "医师 诊疗",
    "大夫": "医师 诊疗",
    "牙医": "口腔科医师 口腔",
    "中医": "中医 医师",
    "药剂": "药师 药学 药品 调剂",
    "药店": "医药商品购销员 药品 医药",
    "药房": "药师 药品 调剂",
    "康复": "康复 治疗",
    "理疗": "康复 治疗",
    "检验科": "临床检验技师 检验",
    "放射科": "影像技师 放射 影像",
    "b超": "超声 影像",
    "验光": "眼镜验光师 验光 眼镜",
    "配镜": "眼镜定配工 眼镜",
    "护士": "护士 护理",
    "兽医": "兽医 动物 诊疗",
    # manufacturing and trades
    "普工": "操作工 生产 装配 生产线",
    "操作工": "操作工 操作 生产",
    "操作员": "操作员 操作",
    "流水线": "生产线 装配 操作",
    "电子厂": "电子设备装接工 电子产品 装配 电子",
    "装配": "装配 装配工",
    "组装": "装配 组装",
    "电焊": "焊工 焊接",
    "氩弧焊": "焊工 焊接",
    "二保焊": "焊工 焊接",
    "焊接": "焊工 焊接",
    "数控": "数控机床 多工序数控机床操作调整工 数控",
    "cnc": "数控机床 多工序数控机床操作调整工 数控 加工",
    "操机": "数控机床 多工序数控机床操作调整工 操作",
    "加工中心": "数控机床 多工序数控机床操作调整工 加工",
    "机修": "机修钳工 设备 维修",
    "设备维修": "机电设备维修工 设备 维修 检修",
    "设备维护": "机电设备维修工 设备 维护 检修",
    "维修工": "维修",
    "模具": "模具",
    "机械设计": "机械设计 机械",
    "电气": "电气 电工电器",
    "plc": "自动控制 电气 可编程控制器",
    "自动化": "自动控制 自动化",
    "工艺工程师": "工艺 制造 工程技术人员",
    "质检": "质检员 质量检验 检验 检测",
    "品检": "质检员 质量检验 检验",
    "品管": "质量管理 质量检验",
    "品质": "质量 质量检验 质量管理",
    "qc": "质检员 质量检验 检验",
    "qa": "质量 测试 检验",
    "化验": "化学检验员 化验 分析 检验",
    "实验员": "试验员 实验 检验",
    "喷漆": "涂装工 喷涂 涂装",
    "喷涂": "涂装工 喷涂",
    "注塑": "塑料制品成型制作工 塑料 成型 注塑",
    "包装": "包装工 包装",
    "缝纫": "缝纫工 缝纫 服装",
    "车位": "缝纫工 缝纫 服装",
    "打版": "服装制版师 服装 制版 样板",
    "制版": "制版",
    "裁床": "裁剪工 服装 裁剪",
    "木工": "木工 木材 木制品",
    "油漆工": "装饰装修工 涂料 油漆 涂装",
    "水电工": "电工 管道工 电气设备安装 给排水 安装",
    "瓦工": "砌筑工 砌筑 瓷砖 抹灰",
    "泥瓦": "砌筑工 砌筑 瓷砖 抹灰",
    "泥工": "砌筑工 砌筑 抹灰",
    "砌墙": "砌筑工 砌筑",
    "装修": "装饰装修工 装饰 装修",
    "电梯": "电梯 安装 维修",
    "空调": "制冷空调系统安装维修工 空调 制冷",
    "汽修": "汽车维修工 汽车 维修",
    "钣金": "钣金 汽车维修 车身",
    "家电": "家用电器产品维修工 家用电器",
    "手机维修": "家用电子产品维修工 信息通信网络终端维修员 手机 维修",
    "锅炉": "锅炉",
    "污水": "污水处理工 水处理",
    "光伏": "光伏 太阳能",
    "风电": "风力发电 风电",
    "变电": "变配电 变电",
    "机器人": "机器人",
    "3d打印": "增材制造 三维打印",
    "无损": "无损检测员 无损检测",
    "测绘": "测绘 测量",
    "施工员": "土木建筑 施工 工程技术人员",
    "造价": "工程造价 预算",
    "预算员": "工程造价 预算",
    "监理": "监理",
    "结构工程师": "土木建筑 结构 设计",
    "给排水": "供水排水 给水 排水",
    "暖通": "供热 空调 制冷 通风",
    "bim": "建筑信息模型技术员 建筑信息模型",
    "环评": "环境影响评价 环境",
    "制药": "药物制剂 制药 药品",
    "smt": "电子设备装接工 电子 贴装",
    "电池": "电池",
    # agriculture
    "饲养员": "饲养员 饲养 家畜 家禽",
    "养殖": "养殖 饲养",
    "猪场": "家畜饲养员 家畜 猪",
    "养猪": "家畜饲养员 家畜 猪",
    "鸡场": "家禽饲养员 家禽 鸡",
    "养鸡": "家禽饲养员 家禽 鸡",
    "农技": "农业技术员 农业技术 指导",
    "果园": "园艺工 果树 园艺",
    "果树": "园艺工 果树 园艺",
    "花卉": "园艺工 花卉 园艺",
    "大棚": "园艺工 蔬菜 设施 农业",
    "农机手": "农机驾驶操作员 农业机械 驾驶",
    "护林": "护林员 森林 巡护",
    # management, public service, media
    "总经理": "企业经理 企业负责人 经营 管理",
    "ceo": "企业经理 企业负责人 经营 管理",
    "总裁": "企业经理 企业负责人 经营 管理",
    "董事长": "企业董事 董事会 企业负责人",
    "村支书": "中国共产党基层组织负责人 村 党组织",
    "网格员": "城市管理网格员 网格 社区",
    "社区工作者": "村务和社区工作者 社区",
    "协警": "辅警 警务 辅助",
    "项目经理": "项目管理 项目",
    "主持": "主持人 节目主持",
    "歌手": "歌唱演员 演唱",
    "摄像": "电视摄像员 摄像 拍摄",
    "调音": "音响调音员 音响 调音",
    "图书管理": "图书馆服务员 图书馆 文献",
}

_EN: dict[str, str] = {
    # computing
    "dev": "developer software",
    "developer": "developers software",
    "programmer": "programmers software",
    "coder": "programmers software",
    "swe": "software developers",
    "sde": "software developers",
    "java": "software developers programming",
    "python": "software developers programming",
    "javascript": "web developers software",
    "frontend": "web developers interface",
    "front end": "web developers interface",
    "front-end": "web developers interface",
    "backend": "software developers",
    "back end": "software developers",
    "full stack": "web developers software",
    "fullstack": "web developers software",
    "ios": "software developers mobile applications",
    "android": "software developers mobile applications",
    "app": "software applications",
    "qa": "quality assurance testers",
    "sdet": "software quality assurance testers",
    "devops": "network computer systems administrators software operations",
    "sre": "network computer systems administrators reliability",
    "sysadmin": "network computer systems administrators",
    "it": "information technology computer",
    "help desk": "computer user support specialists",
    "helpdesk": "computer user support specialists",
    "desktop support": "computer user support specialists",
    "dba": "database administrators",
    "pen tester": "penetration testers",
    "pentester": "penetration testers",
    "infosec": "information security analysts",
    "cyber": "information security",
    "cybersecurity": "information security",
    "bi": "business intelligence analysts",
    "ml": "machine learning data scientists",
    "ai": "artificial intelligence machine learning",
    "data engineer": "data warehousing specialists database architects",
    "ux": "web digital interface designers user experience",
    "ui": "web digital interface designers user interface",
    "seo": "search marketing strategists",
    "sem": "search marketing strategists",
    "social media": "marketing public relations specialists",
    "content writer": "writers authors",
    "copywriter": "writers authors advertising",
    # business and office
    "rep": "representatives",
    "reps": "representatives",
    "exec": "executive",
    "mgr": "manager",
    "asst": "assistant",
    "admin": "administrative",
    "coord": "coordinator",
    "hr": "human resources",
    "recruiter": "human resources specialists recruitment",
    "talent acquisition": "human resources specialists recruitment",
    "bookkeeper": "bookkeeping accounting auditing clerks",
    "cpa": "accountants auditors",
    "auditor": "accountants auditors",
    "paralegal": "paralegals legal assistants",
    "attorney": "lawyers",
    "realtor": "real estate sales agents brokers",
    "account executive": "sales representatives services",
    "receptionist": "receptionists information clerks",
    "front desk": "receptionists desk clerks",
    "teller": "tellers bank",
    "financial advisor": "personal financial advisors",
    "ceo": "chief executives",
    "cfo": "financial managers",
    "cto": "computer information systems managers",
    # services
    "uber": "taxi drivers chauffeurs passengers",
    "lyft": "taxi drivers chauffeurs passengers",
    "rideshare": "taxi drivers chauffeurs passengers",
    "trucker": "heavy tractor-trailer truck drivers",
    "cdl": "heavy tractor-trailer truck drivers",
    "forklift": "industrial truck tractor operators",
    "warehouse": "laborers freight stock material movers",
    "picker": "stockers order fillers",
    "packer": "packers packagers",
    "line cook": "cooks restaurant",
    "prep cook": "food preparation workers cooks",
    "sous chef": "chefs head cooks",
    "chef": "chefs head cooks",
    "server": "waiters waitresses food servers",
    "waiter": "waiters waitresses",
    "waitress": "waiters waitresses",
    "busser": "dining room cafeteria attendants",
    "housekeeper": "maids housekeeping cleaners",
    "custodian": "janitors cleaners",
    "landscaper": "landscaping groundskeeping workers",
    "caregiver": "personal care aides home health aides",
    "daycare": "childcare workers",
    "babysitter": "childcare workers nannies",
    "cna": "nursing assistants",
    "rn": "registered nurses",
    "lpn": "licensed practical vocational nurses",
    "lvn": "licensed practical vocational nurses",
    "er": "emergency",
    "icu": "critical care",
    "np": "nurse practitioners",
    "pa": "physician assistants",
    "emt": "emergency medical technicians",
    "tech": "technicians",
    "vet": "veterinary",
    "pharmacy tech": "pharmacy technicians",
    "hair stylist": "hairdressers hairstylists cosmetologists",
    "stylist": "hairdressers hairstylists",
    "nail": "manicurists pedicurists",
    "personal trainer": "exercise trainers group fitness instructors",
    "trainer": "trainers instructors",
    "lifeguard": "lifeguards recreational protective service",
    "bouncer": "security guards",
    "cop": "police patrol officers",
    "teacher": "teachers",
    "sub": "substitute",
    "ta": "teaching assistants",
    "tutor": "tutors",
    # trades and production
    "hvac": "heating air conditioning refrigeration mechanics installers",
    "cnc": "computer numerically controlled tool operators machinists",
    "machinist": "machinists machine tool",
    "mechanic": "mechanics service technicians",
    "auto": "automotive",
    "diesel": "bus truck mechanics diesel engine",
    "handyman": "maintenance repair workers general",
    "maintenance technician": "maintenance repair workers industrial machinery mechanics",
    "assembler": "assemblers",
    "assembly": "assemblers",
    "quality inspector": "inspectors testers sorters samplers",
    "qc": "quality control inspectors",
    "laborer": "laborers",
    "farmhand": "farmworkers laborers crop ranch",
    "lab tech": "laboratory technicians",
    "lab technician": "laboratory technicians",
}

# Tech and platform words appear in Chinese titles as they are (``Java开发``, ``iOS开发``): they
# also get Chinese vocabulary.  Keys in both tables get both values, so either catalogue benefits.
_BOTH: dict[str, str] = {
    "java": "计算机程序设计员 软件 程序 开发",
    "python": "计算机程序设计员 软件 程序 开发",
    "javascript": "计算机程序设计员 软件 网页 开发",
    "c++": "计算机程序设计员 软件 程序 开发 software developers programming",
    "c#": "计算机程序设计员 软件 程序 开发 software developers programming",
    ".net": "计算机程序设计员 软件 程序 开发 software developers programming",
    "php": "计算机程序设计员 软件 网页 开发 web developers",
    "golang": "计算机程序设计员 软件 程序 开发 software developers programming",
    "web": "计算机程序设计员 网页 网站 开发 web developers",
    "ios": "计算机程序设计员 移动终端 应用程序 开发",
    "android": "计算机程序设计员 移动终端 应用程序 开发",
    "app": "移动终端 应用程序",
    "devops": "信息系统运行维护 运行维护 系统管理",
    "linux": "信息系统运行维护 运行维护 系统管理 linux administrators",
    "dba": "数据库运行管理员 数据库",
    "sre": "信息系统运行维护 运行维护",
    "ai": "人工智能",
    "ml": "人工智能 机器学习",
    "bi": "商务数据分析 数据分析",
}


def _merge(*tables: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for table in tables:
        for key, value in table.items():
            out[key] = f"{out[key]} {value}".strip() if key in out else value
    return out


JOB_LEXICON: Mapping[str, str] = _merge(_ZH, _EN, _BOTH)

# --- normalisation ------------------------------------------------------------------------------

_BRACKETS = re.compile(r"[(（\[【<《「][^)）\]】>》」]*[)）\]】>》」]")
_NOISE_ZH = (
    "包吃包住", "包吃住", "包住宿", "包住", "包吃", "五险一金", "六险一金", "五险", "双休", "单休",
    "急聘", "急招", "诚聘", "高薪", "直招", "日结", "周结", "月结", "长期", "临时", "可实习", "应届生",
    "应届", "无经验", "可兼职", "兼职", "全职", "底薪", "提成",
)
_PREFIX_ZH = ("高级", "资深", "初级", "中级", "见习", "实习", "储备", "首席", "高级资深")
# Longest first so that 实习生 goes before 生-less forms and 工程师 before 师.
_SUFFIX_ZH = (
    "储备干部", "实习生", "管培生", "工程师", "专员", "助理", "主管", "经理", "总监", "组长", "学徒",
    "顾问", "代表", "师傅", "岗位", "人员", "岗",
)
_AFFIX_EN = frozenset(
    (
        "senior", "sr", "junior", "jr", "lead", "principal", "staff", "intern", "internship", "trainee",
        "apprentice", "entry", "level", "part", "time", "full", "temporary", "temp", "contract", "remote",
        "i", "ii", "iii", "iv", "associate",
    )
)
_SPLIT = re.compile(r"[/|,，、;；]+|\s+[-–—]\s+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _strip_zh(run: str) -> str:
    if run in _PREFIX_ZH or run in _SUFFIX_ZH:
        return ""
    changed = True
    while changed:
        changed = False
        for p in _PREFIX_ZH:
            if run.startswith(p) and len(run) - len(p) >= 2:
                run, changed = run[len(p):], True
        for s in _SUFFIX_ZH:
            if run.endswith(s) and len(run) - len(s) >= 2:
                run, changed = run[: -len(s)], True
                break
    return run


def normalize_title(title: str) -> str:
    """The head of a job title: brackets, recruiting noise, seniority and rank affixes removed.

    NFKC and case-folded like every text feature.  Parts separated by ``/`` or `` - `` are kept as
    separate phrases.  A Chinese suffix is removed only when at least two characters remain
    (``总经理``, ``店长`` stay whole); a title made only of affixes is returned as it was.
    """
    base = " ".join(normalize(title).split())
    text = _BRACKETS.sub(" ", base)
    for noise in _NOISE_ZH:
        text = text.replace(noise, " ")
    phrases: list[str] = []
    for part in _SPLIT.split(text):
        part = _CJK_RUN.sub(lambda m: " " + _strip_zh(m.group()) + " ", part)
        kept = [w for w in part.split() if w.rstrip(".") not in _AFFIX_EN]
        if kept:
            phrases.append(" ".join(kept))
    return " ".join(phrases) or base


# --- expansion ----------------------------------------------------------------------------------


def _pattern(keys: list[str]) -> re.Pattern[str] | None:
    if not keys:
        return None
    alts = []
    for k in sorted(keys, key=lambda k: (-len(k), k)):
        esc = re.escape(k)
        alts.append(rf"(?<![a-z0-9+#]){esc}(?![a-z0-9+#])" if k.isascii() else esc)
    return re.compile("|".join(alts))


@dataclass(frozen=True, slots=True)
class JobTitleExpander:
    """Normalise a query's title line and expand its job words with a lexicon.

    ``lexicon`` maps colloquial job words (NFKC, lower case; Latin keys match whole words only)
    to classification vocabulary.  Build once and reuse: the matcher is compiled at construction.
    """

    lexicon: Mapping[str, str] = field(default_factory=lambda: JOB_LEXICON)
    max_title_chars: int = 40
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _values: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = {normalize(k).strip(): v for k, v in self.lexicon.items() if normalize(k).strip()}
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_pattern", _pattern(list(values)))

    def words(self, text: str) -> list[str]:
        """Lexicon words found in ``text`` (longest match first, non-overlapping, in order)."""
        if self._pattern is None:
            return []
        return [m.group() for m in self._pattern.finditer(normalize(text))]

    def expand(self, query: str) -> str | None:
        """Expansion text for ``query``, or ``None`` when there is nothing to add.

        The title is the query's first non-empty line; it is normalised, and lexicon words are
        looked up in the title only (a long description would add noise to a short signal).
        The result is the normalised title followed by the vocabulary of each word found; it
        is ``None`` when no lexicon word occurs and normalisation leaves the title unchanged,
        and when the first line is longer than ``max_title_chars`` (not a title but prose).
        """
        title = next((line for line in query.splitlines() if line.strip()), "")
        if not title or len(" ".join(normalize(title).split())) > self.max_title_chars:
            return None
        head = normalize_title(title)
        found = self.words(title)
        if not found and " ".join(head.split()) == " ".join(normalize(title).split()):
            return None
        seen: set[str] = set()
        parts = [head] if head else []
        for w in found:
            if w not in seen:
                seen.add(w)
                parts.append(self._values[w])
        return " ".join(parts) if parts else None
