"""The confidentiality undertaking (保密承诺) a reader records before a listing's confidential details
are shown to them. A changed text gets a new version; undertakings keep the version they were given
under. The text binds the reader to what 促进科技成果转化法 arts. 30 and 41 already require."""

TEXT_VERSION = "2026-12-v1"

TEXT = (
    "本人承诺：对通过本平台获悉的上述成果（需求）保密信息（含技术秘密、完整技术资料及其附件），"
    "仅用于本交易项目的评估与洽谈；未经权利人书面同意，不向任何第三方披露，不复制、不留存超出必要范围的副本，"
    "不用于本项目以外的任何目的；交易终止后应权利人要求销毁或返还。"
    "技术经理人依《促进科技成果转化法》第三十条对所知悉的秘密负有保密义务；"
    "违反本承诺的，依法承担相应法律责任。"
)
