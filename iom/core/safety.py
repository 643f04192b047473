"""Safety cues: phrases and stems of danger, trafficking and crisis, in every language.

A high-recall net under the intent classifier. :func:`safety_cue` says whether a
message carries a cue of immediate danger, suicidal crisis or trafficking (forced
labour, taken documents, debt bondage, a trafficking hotline asked for by that word),
in Polish, English, Ukrainian or Russian, however it is typed (no diacritics,
transliterated Cyrillic apostrophes, mixed languages). The NLU component
:class:`iom.rasa.nlu.components.SafetyNet` routes a message with a cue to the safety
answer whenever the classifier chose something else, so that a classifier's doubt
never hides a person in danger. False alarms on other intents are measured by
``bench/nlu_heldout.py`` (the "safety net" table).
"""

from __future__ import annotations

import re

from iom.core.language import fold

DANGER = "immediate_danger"
CRISIS = "emotional_crisis"
TRAFFICKING = "report_trafficking"

# Patterns match folded text (lowercase, no diacritics; й -> и, ї -> і, ё -> е);
# they are folded themselves before compiling (no upper-case escapes like \\S).
_CUES: dict[str, tuple[str, ...]] = {
    DANGER: (
        # pl
        r"\bratunku\b",
        r"\bzamkn\w*\s+(?:mnie|nas)\b",
        r"\b(?:zamkneli|zamknela|zamknal)\b",
        r"\b(?:bij\w*|pobil\w*)\s+(?:mnie|nas)\b",
        r"\b(?:zabije|zabija|zabic)\s+(?:mnie|nas)\b",
        r"\bchc\w*\s+mnie\s+zabic\b",
        r"\bnie\s+(?:moge|mozemy)\s+(?:wyjsc|uciec)\b",
        r"\bjestem\s+w\s+niebezpieczenstwie\b",
        r"\b(?:uwiezion\w*|porwal\w*)\b",
        # en
        r"\block(?:ed)?\s+(?:me|us)\b",
        r"\blocked\s+(?:in|up)\b",
        r"\b(?:can'?t|cannot)\s+(?:get\s+out|escape|leave\s+the\s+(?:room|house|flat))\b",
        r"\bheld\s+against\s+(?:my|our)\s+will\b",
        r"\b(?:beat(?:ing|s)?|hit(?:ting|s)?|hurt(?:ing|s)?)\s+(?:me|us)\b",
        r"\b(?:going\s+to|will|wants?\s+to|gonna)\s+kill\s+(?:me|us)\b",
        r"\bthreaten\w*\s+to\s+kill\b",
        r"\b(?:i'?m|i\s+am|we\s+are)\s+in\s+danger\b",
        r"\b(?:kidnapp?\w*|trapped)\b",
        # uk
        r"\b(?:замкн|зачин|закри)\w*\s+(?:мене|нас)\b",
        r"\b(?:мене|нас)\s+(?:замкн|зачин|закри|б'ют|бют|бють|побил)\w*",
        r"\b(?:б'ють|бють|вб'ють|вбють)\b",
        r"\bвби(?:ти|ть)\s+(?:мене|нас)\b",
        r"\bпогрожу\w*\s+вбити\b",
        r"\bне\s+(?:можу|можемо)\s+вийти\b",
        r"\bне\s+випуска\w*",
        r"\bрятуйте\b",
        r"\bя\s+в\s+небезпеці\b",
        r"\bвикрал\w*",
        # ru
        r"\b(?:запер|закрыл|закрил)\w*\s+(?:меня|нас)\b",
        r"\b(?:меня|нас)\s+(?:запер|закрыл|бьют|избива|избил)\w*",
        r"\bзаперл\w*",
        r"\b(?:убью|убьют)\b",
        r"\bубить\s+(?:меня|нас)\b",
        r"\bугрожа\w*\s+убить\b",
        r"\bне\s+(?:могу|можем)\s+выйти\b",
        r"\bне\s+выпуска\w*",
        r"\bспасите\b",
        r"\bя\s+в\s+опасности\b",
        r"\bпохитил\w*",
        # every language: a weapon, being followed, fear for one's life, nowhere to
        # run, not knowing where one is held
        r"\b(?:z\s+)?(?:nozem|nożem|noz|nóż|pistolet\w*|bronia)\b",
        r"\b(?:with\s+a\s+(?:knife|gun)|has\s+a\s+(?:knife|gun))\b",
        r"\b(?:з\s+ножем|ножем|пістолет\w*|з\s+ножом|с\s+ножом|пистолет\w*)\b",
        r"\b(?:sledzi|idzie\s+za|jedzie\s+za)\s+(?:mnie|mna)\b",
        r"\b(?:following|stalking|chasing)\s+(?:me|us)\b",
        r"\bза\s+(?:мною|мной|нами)\s+(?:їде|йде|іде|стежать|стежить|слідкує|едет|идет"
        r"|идут|следит|следят|гонится|женеться)\b",
        r"\b(?:boje|boimy)\s+sie\s+o\s+(?:swoje\s+|moje\s+|nasze\s+)?zycie\b",
        r"\bafraid\s+for\s+(?:my|our)\s+li(?:fe|ves)\b",
        r"\b(?:fear|scared)\s+for\s+(?:my|our)\s+li(?:fe|ves)\b",
        r"\bбою(?:ся|сь|ся)\s+за\s+(?:своє\s+|свою\s+|моє\s+|мою\s+)?(?:життя|жизнь)\b",
        r"\b(?:nie\s+mam|nie\s+mamy)\s+dokad\s+uciec\b",
        r"\bnowhere\s+to\s+(?:run|go|hide)\b",
        r"\b(?:нікуди|некуда)\s+(?:тікати|бежать|бігти|деваться|дітися)\b",
        r"\bnie\s+wiem\s+gdzie\s+(?:jestem|jestesmy)\b",
        r"\b(?:don'?t|do\s+not)\s+know\s+where\s+(?:i\s+am|we\s+are)\b",
        r"\bне\s+знаю\s+(?:де|где)\s+(?:я|ми|мы)\b",
        r"\b(?:pobije|pobija)\s+(?:mnie|nas)\b",
        r"\bпоб'?(?:є|ють)\s+(?:мене|нас)\b",
        r"\bпобь(?:ет|ют)\s+(?:меня|нас)\b",
        # Ukrainian and Russian typed in Latin letters
        r"\b(?:spasite|ryatuite|riatuite|zaperli|zachynyly|zakryly\s+mene)\b",
        r"\b(?:ne\s+vypuskayut|ne\s+vypuskaiut|ne\s+vypuskaut)\b",
    ),
    CRISIS: (
        # pl
        r"\b(?:zabic|zabije|zabilem|zabilam)\s+sie\b",
        r"\bsie\s+(?:zabic|zabije|powiesic|powiesze)\b",
        r"\bsamoboj\w*",
        r"\bodebrac\s+sobie\s+zycie\b",
        r"\bnie\s+chce\s+(?:juz\s+)?zyc\b",
        r"\bskoncz\w*\s+ze\s+soba\b",
        r"\bchce\s+umrzec\b",
        # en
        r"\bkill\s+myself\b",
        r"\bsuicid\w*",
        r"\bend\s+(?:my\s+life|it\s+all)\b",
        r"\btake\s+my\s+(?:own\s+)?life\b",
        r"\b(?:don'?t|do\s+not)\s+want\s+to\s+(?:live|be\s+alive)\b",
        r"\bwant\s+to\s+die\b",
        r"\bno\s+reason\s+to\s+live\b",
        r"\bbetter\s+off\s+dead\b",
        r"\bself[- ]?harm\w*",
        # uk
        r"\bвб'?ю\s+себе\b",
        r"\bвбити\s+себе\b",
        r"\bсамогуб\w*",
        r"\bсуіцид\w*",
        r"\bне\s+хочу\s+(?:більше\s+|вже\s+)?жити\b",
        r"\bпокінчити\s+з\s+собою\b",
        r"\bхочу\s+померти\b",
        r"\bнакласти\s+на\s+себе\s+руки\b",
        # ru
        r"\bубь?ю\s+себя\b",
        r"\bубить\s+себя\b",
        r"\bсамоуби\w*",
        r"\bсуицид\w*",
        r"\bне\s+хочу\s+(?:больше\s+|уже\s+)?жить\b",
        r"\bпокончить\s+с\s+собой\b",
        r"\bхочу\s+умереть\b",
        r"\bналожить\s+на\s+себя\s+руки\b",
        # every language: pills collected or swallowed, "end it all", harming oneself
        r"\b(?:назбира|насобира|накопи|наковта|наглота|ковтну|проглот|збира|собира)\w*"
        r"\s+(?:\w+\s+)?таблет\w*",
        r"\b(?:nalykac|nalykam|zbieram|zebralam|zebralem|polknac|polkne)\w*\s+"
        r"(?:\w+\s+)?tablet\w*",
        r"\b(?:swallow\w*|collect\w*|sav\w*|hoard\w*)\s+(?:all\s+)?(?:my\s+|the\s+)?pills\b",
        r"\b(?:take|took)\s+all\s+(?:my\s+|the\s+)?pills\b",
        r"\boverdos\w*",
        r"\b(?:закінчити|покінчити\s+з)\s+(?:це\s+|усе\s+|все\s+)?(?:все\s+|усім\s+|всім\s+)?"
        r"(?:назавжди|раз\s+і\s+назавжди)",
        r"\bпокончить\s+(?:со\s+всем|с\s+этим\s+навсегда)\b",
        r"\bskonczyc\s+z\s+tym\s+(?:wszystkim|na\s+zawsze)\b",
        r"\b(?:coś|cos)\s+sobie\s+zrobic\b",
        r"\bdo\s+something\s+to\s+myself\b",
        r"\b(?:ne\s+(?:khochu|hochu)\s+(?:zhyty|zhit)|net\s+smysla\s+zhit"
        r"|ubit\s+sebya|vbyty\s+sebe|pokonchit\s+s\s+soboi|samoubiistv\w*"
        r"|samohubstv\w*|suitsid\w*)\b",
        r"\bhurt\s+myself\b",
        r"\b(?:щось|що-небудь)\s+зробити\s+(?:з\s+собою|собі)\b",
        r"\bщось\s+собі\s+зробити\b",
        r"\b(?:что-то|что-нибудь)\s+с\s+собой\s+сделать\b",
        r"\b(?:что-то|что-нибудь)\s+сделать\s+с\s+собой\b",
    ),
    TRAFFICKING: (
        # pl
        r"\bhandl\w*\s+ludzmi\b",
        r"\bhandel\s+ludzmi\b",
        r"\bprac\w*\s+przymusow\w*",
        r"\b(?:zabral\w*|zabrali|zabiera\w*|trzyma\w*|odebral\w*)\s+(?:mi\s+|moj\w*\s+)?"
        r"(?:paszport\w*|dokument\w*)",
        r"\bodpracow\w*\s+dlug\w*",
        r"\bzmusza\w*\s+(?:mnie\s+|nas\s+)?do\s+(?:pracy|prostytucji|seksu)\b",
        # en
        r"\btraffick\w*",
        r"\bforced\s+(?:labou?r|to\s+work|prostitution)\b",
        r"\b(?:took|take[sn]?|keeps?|kept|holds?|holding|has)\s+(?:away\s+)?my\s+"
        r"(?:passport|documents|papers|id)\b",
        r"\bwork\s+off\s+(?:a|the|my|our)?\s*debt\b",
        r"\bdebt\s+bondage\b",
        r"\bmodern\s+slavery\b",
        # uk
        r"\bторгівл\w*\s+людьми\b",
        r"\bторгівл\w*\s+людей\b",
        r"\bпримусов\w*\s+прац\w*",
        r"\b(?:забра|трима|відібра)\w*\s+(?:мій\s+|мої\s+|в\s+мене\s+|у\s+мене\s+)?"
        r"(?:паспорт\w*|документ\w*)",
        r"\bвідпрацю\w*\s+борг\w*",
        r"\bне\s+віддають\s+(?:паспорт|документ)\w*",
        r"\bзмушу\w*\s+(?:мене\s+|нас\s+)?(?:працювати|до\s+проституц)",
        r"\bрабств\w*",
        # ru
        r"\bторговл\w*\s+людьми\b",
        r"\bторговл\w*\s+людей\b",
        r"\bпринудительн\w*\s+труд\w*",
        r"\b(?:забра|держ|отобра)\w*\s+(?:мои\s+|мой\s+|у\s+меня\s+)?"
        r"(?:паспорт\w*|документ\w*)",
        r"\bотрабат?\w*\s+долг\w*",
        r"\bне\s+отдают\s+(?:паспорт|документ)\w*",
        r"\bзаставля\w*\s+(?:меня\s+|нас\s+)?(?:работать|заниматься\s+проституц)",
        r"\bрабств\w*",
        # Ukrainian and Russian typed in Latin letters
        r"\b(?:torgovl\w*|torhivl\w*)\s+(?:lyud\w*|liud\w*)\b",
        r"\b(?:zabral\w*|zabraly|zabrav|derzhat|trymaiut|trymayut)\s+(?:moi\s+|miy\s+)?"
        r"(?:pasport\w*|dokument\w*)",
        r"\b(?:otrabot\w*|vidpratsi\w*|vidpratsyu\w*)\s+(?:dolg\w*|borh\w*)",
    ),
}
# Danger first: its answer gives 112 first and the trafficking lines after it.
ORDER = (DANGER, CRISIS, TRAFFICKING)
# The patterns are folded too, so they may be written with their letters (мій, й).
_COMPILED = {
    intent: re.compile("|".join(f"(?:{fold(p)})" for p in patterns))
    for intent, patterns in _CUES.items()
}
SIGNS = "ask_trafficking_signs"
SAFETY_INTENTS = frozenset({DANGER, CRISIS, TRAFFICKING, SIGNS})
# For each cue, the intents the net leaves alone because their answer already
# serves the person: danger and crisis answers give 112 first; the trafficking-signs
# answer, a request for a person and an IOM contact lookup about trafficking give
# KCIK and La Strada. Any other intent (including the crisis answer for a
# trafficking hotline asked for as a "trust line") is replaced by the cue's.
KEEP: dict[str, frozenset[str]] = {
    DANGER: frozenset({DANGER, CRISIS}),
    CRISIS: frozenset({CRISIS, DANGER}),
    TRAFFICKING: frozenset(
        {TRAFFICKING, DANGER, SIGNS, "request_human", "contact_iom"}
    ),
}


def safety_cue(text: str) -> str | None:
    """The safety intent whose cue the message carries, most urgent first."""
    folded = fold(text or "")
    for intent in ORDER:
        if _COMPILED[intent].search(folded):
            return intent
    return None
