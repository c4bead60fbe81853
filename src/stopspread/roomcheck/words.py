"""The plain words of a room check, Korean first, then English.

``VERDICT``, ``REASON`` (``{detail}`` is filled in), ``NEXT_STEPS`` (what to do about a likely
camera), ``PHYSICAL_CHECKS`` (what software cannot do) and ``CANNOT_FIND`` (so nobody is falsely
reassured). The CLI prints them; the page and the evidence export show the same words.
"""

from __future__ import annotations

from typing import Final

from stopspread.roomcheck._verdict import Reason, Verdict

__all__ = [
    "CANNOT_FIND",
    "HELP_LINKS",
    "LANGUAGES",
    "NEXT_STEPS",
    "PHYSICAL_CHECKS",
    "REASON",
    "VERDICT",
    "reason_text",
]

LANGUAGES: Final = ("ko", "en")

VERDICT: Final[dict[Verdict, dict[str, str]]] = {
    Verdict.LIKELY: {"ko": "카메라일 가능성이 높아요", "en": "Likely a camera"},
    Verdict.CHECK: {"ko": "확인이 필요해요", "en": "Needs a closer look"},
    Verdict.UNLIKELY: {"ko": "카메라가 아닌 것 같아요", "en": "Probably not a camera"},
}

REASON: Final[dict[str, dict[str, str]]] = {
    "rtsp": {
        "ko": "영상 전송(RTSP)에 응답해요 (포트 {detail}). 카메라와 녹화기가 쓰는 방식이에요.",
        "en": "It answers RTSP, the protocol cameras and recorders stream video over"
        " (port {detail}).",
    },
    "rtsp-open-video": {
        "ko": "비밀번호 없이 영상 스트림을 내보내고 있어요 (포트 {detail}). 영상은 보지 않았어요.",
        "en": "It offers a video stream without a password (port {detail}). We did not"
        " open the stream.",
    },
    "rtsp-password": {
        "ko": "영상을 보려면 비밀번호가 필요하다고 답해요 ({detail}). 로그인은 시도하지 않았어요.",
        "en": "It asks for a password to show video ({detail}). We did not try to log in.",
    },
    "onvif": {
        "ko": "카메라 표준(ONVIF)으로 기기 정보를 알려줬어요: {detail}",
        "en": "It described itself over ONVIF, the camera standard: {detail}",
    },
    "onvif-password": {
        "ko": "카메라 표준(ONVIF)으로 응답해요 (포트 {detail}).",
        "en": "It answers ONVIF, the camera standard (port {detail}).",
    },
    "wsd-camera": {
        "ko": "네트워크에서 자신을 영상 송출 기기로 알려요: {detail}",
        "en": "It announces itself on the network as a video device: {detail}",
    },
    "p2p": {
        "ko": "값싼 시계·충전기·전구형 카메라가 쓰는 P2P 클라우드(CS2)에 응답해요."
        " 기기 번호 {detail}",
        "en": "It answers the LAN search of the CS2 P2P cloud that cheap clock, charger and"
        " bulb cameras use. Device id {detail}",
    },
    "web-camera": {
        "ko": "웹 화면이 카메라·녹화기 화면이에요: “{detail}”",
        "en": "Its web page is a camera or recorder page: “{detail}”",
    },
    "server-camera": {
        "ko": "카메라 회사의 웹 서버를 쓰고 있어요: {detail}",
        "en": "It runs a camera maker's web server: {detail}",
    },
    "server-hint": {
        "ko": "값싼 카메라에 흔한 웹 서버를 쓰고 있어요: {detail}",
        "en": "It runs a web server common on cheap cameras: {detail}",
    },
    "ssdp-camera": {
        "ko": "네트워크 알림(SSDP)에서 카메라라고 해요: {detail}",
        "en": "Its network announcement (SSDP) says camera: {detail}",
    },
    "upnp-camera": {
        "ko": "기기 설명(UPnP)에서 카메라라고 해요: {detail}",
        "en": "Its device description (UPnP) says camera: {detail}",
    },
    "mdns-camera": {
        "ko": "네트워크에 카메라 서비스를 알리고 있어요 (mDNS {detail}).",
        "en": "It announces a camera service on the network (mDNS {detail}).",
    },
    "mdns-hint": {
        "ko": "스마트홈(HomeKit) 기기로 알려요 ({detail}). 카메라일 수도 있어요.",
        "en": "It announces itself as a smart-home (HomeKit) accessory ({detail}); it may be"
        " a camera.",
    },
    "vendor-camera": {
        "ko": "네트워크 카드를 카메라 회사가 만들었어요: {detail}",
        "en": "Its network card was made by a camera maker: {detail}",
    },
    "vendor-module": {
        "ko": "숨은 카메라에 많이 쓰이는 와이파이 모듈 회사예요 (플러그·전구에도 쓰여요): {detail}",
        "en": "Its Wi-Fi module maker is common in hidden cameras (and in plugs and bulbs):"
        " {detail}",
    },
    "port-dvr": {
        "ko": "녹화기·카메라용 포트가 열려 있어요 ({detail}).",
        "en": "A port used by video recorders and cameras is open ({detail}).",
    },
    "port-p2p": {
        "ko": "스마트 기기 클라우드용 포트가 열려 있어요 ({detail}). 카메라일 수도 있어요.",
        "en": "A smart-device cloud port is open ({detail}); it may be a camera.",
    },
    "says-ordinary": {
        "ko": "스스로를 이렇게 알려요: {detail}",
        "en": "It describes itself as: {detail}",
    },
    "port-printer": {
        "ko": "프린터용 포트가 열려 있어요 ({detail}).",
        "en": "A printer port is open ({detail}).",
    },
    "port-phone": {
        "ko": "휴대전화(아이폰) 동기화 포트가 열려 있어요 ({detail}).",
        "en": "A phone (iPhone) sync port is open ({detail}).",
    },
    "vendor": {
        "ko": "네트워크 카드 제조사: {detail}",
        "en": "Network card maker: {detail}",
    },
    "mac-random": {
        "ko": "임의로 바뀌는 주소를 써요. 휴대전화·노트북에서 흔해요.",
        "en": "It uses a randomised address, usual for phones and laptops.",
    },
    "no-answer": {
        "ko": "이름이나 종류를 알려주지 않았어요.",
        "en": "It did not say what it is.",
    },
}

NEXT_STEPS: Final[dict[str, list[str]]] = {
    "ko": [
        "기기를 뽑거나 만지지 마세요. 증거가 사라질 수 있어요.",
        "기기가 있는 곳을 사진으로 찍어 두세요 (주변이 함께 보이게).",
        "112에 신고하거나 디지털성범죄피해자지원센터(02-735-8994)에 연락하세요.",
        "이 결과는 증거로 저장할 수 있어요. 지원센터와 함께 확인하세요.",
    ],
    "en": [
        "Do not unplug or touch the device: that can destroy evidence.",
        "Photograph where it is, with its surroundings in the picture.",
        "Call the police on 112, or the Digital Sex Crime Victim Support Center (02-735-8994).",
        "These results can be kept as evidence; go through them with a support worker.",
    ],
}

PHYSICAL_CHECKS: Final[dict[str, list[str]]] = {
    "ko": [
        "불을 끄고 휴대전화 손전등을 비추며 천천히 둘러보세요. 렌즈는 작게 반짝여요.",
        "흔한 곳: 탁상시계, 충전기·멀티탭, 화재감지기, 전구, 액자, 인형, 환기구, 거울, 셋톱박스.",
        "어떤 기기가 방 안을 향하고 있는지, 작은 구멍이 있는지 보세요.",
    ],
    "en": [
        "Turn off the lights and sweep the room slowly with a phone torch: a lens glints.",
        "Common places: desk clocks, chargers and power strips, smoke detectors, bulbs,"
        " picture frames, toys, air vents, mirrors, set-top boxes.",
        "Look for devices facing into the room and for small holes.",
    ],
}

CANNOT_FIND: Final[dict[str, list[str]]] = {
    "ko": [
        "다른 네트워크(다른 와이파이, 숨겨진 공유기)에 연결된 카메라",
        "유심(LTE) 카메라처럼 휴대전화망으로 보내는 카메라",
        "와이파이를 끄고 메모리 카드에만 녹화하는 카메라",
        "응답하지 않도록 설정된 기기, 지금 꺼져 있는 기기",
    ],
    "en": [
        "cameras on another network (another Wi-Fi, a hidden router)",
        "cameras that send over the mobile network (a SIM card)",
        "cameras that only record to a memory card with Wi-Fi off",
        "devices set not to answer, and devices switched off right now",
    ],
}

HELP_LINKS: Final[list[dict[str, str]]] = [
    {
        "ko": "디지털성범죄피해자지원센터 (02-735-8994)",
        "en": "Digital Sex Crime Victim Support Center (02-735-8994)",
        "href": "https://d4u.stop.or.kr/",
    },
    {"ko": "경찰 신고 112", "en": "Police: 112", "href": "tel:112"},
]


def reason_text(reason: Reason, lang: str) -> str:
    words = REASON.get(reason.code, REASON["no-answer"])
    return words.get(lang, words["en"]).format(detail=reason.detail)
