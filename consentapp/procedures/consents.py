"""The consents every procedure asks for besides its own: signing electronically, and photos.

Their words are the clinic's fixed text (translated like every other string), not part of a
procedure definition. Whatever the patient was shown is copied into the record word for word,
in their language (records.commit.esign_agreement and photo_consent), so the record proves
what they agreed to even after this text changes.
"""

from flask_babel import lazy_gettext as _l

from ..models import PhotoKind

# Bump when the disclosure's meaning changes; the record keeps the words it was shown anyway.
ESIGN_DISCLOSURE_VERSION = "1"

ESIGN_TITLE = _l("Signing on this screen")
ESIGN_INTRO = _l("Before you sign, please read how signing on a screen works.")
# What electronic signature law asks the signer to know before they agree (US E-SIGN Act,
# 15 U.S.C. 7001(c)): it counts like paper, paper is still there, how to stop, how to get a
# copy, and what it takes to open the copy.
ESIGN_POINTS = (
    _l("Signing on this screen counts the same as signing on paper."),
    _l("You can ask the staff for a paper copy of this form at any time."),
    _l("You can stop getting your records on a screen. Just tell the staff. "
       "We will use paper for you from then on."),
    _l("To get a copy of your signed form, scan the code on the last screen with your phone. "
       "Or ask the staff to print it for you."),
    _l("Your copy is a PDF file. Most phones and computers can open it. "
       "If yours cannot, ask us for paper."),
)
ESIGN_AGREEMENT = _l("I agree to sign and receive my records electronically.")

PHOTOS_TITLE = _l("Photos")
PHOTOS_INTRO = _l("The clinic may take photos of your skin before and after treatment. "
                  "Both choices below are yours. Saying no does not change your treatment.")
PHOTOS_LATER = _l("You can change your mind later. Just tell the staff.")
# What the patient agrees to with each photo consent.
PHOTO_CONSENTS = {
    PhotoKind.CLINICAL: _l(
        "I agree that the clinic may take before-and-after photos of the treated "
        "skin for my health record."
    ),
    PhotoKind.MARKETING: _l(
        "I agree that the clinic may use my photos to show its work, for example "
        "on its website. My name will not be shown."
    ),
}
PHOTO_KINDS = tuple(PhotoKind)


def esign_text() -> list[str]:
    """The disclosure's words as the patient reads them now (in the current language)."""
    return [str(ESIGN_TITLE), str(ESIGN_INTRO), *(str(point) for point in ESIGN_POINTS),
            str(ESIGN_AGREEMENT)]


def photo_texts() -> dict[str, str]:
    """Each photo consent's words as the patient reads them now."""
    return {kind: str(PHOTO_CONSENTS[kind]) for kind in PHOTO_KINDS}
