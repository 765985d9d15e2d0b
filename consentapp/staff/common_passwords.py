"""Generates consentapp/data/common-passwords.txt, the list new staff passwords are checked against.

Written from the patterns people fall back on when told "at least 12 characters": a common
word or keyboard walk, repeated or padded with a year, "123" or "!". Only entries of 12 or
more characters are kept (shorter ones fail the length rule anyway). Checks compare
case-insensitively, so the list is lower-case.

Regenerate with:
  python -m consentapp.staff.common_passwords > consentapp/data/common-passwords.txt
"""

import itertools

MIN_LENGTH = 12

WORDS = """
password passw0rd p@ssword p@ssw0rd pass qwerty qwertz azerty asdfgh zxcvbn letmein welcome
admin administrator root user login master access secret trustno1 iloveyou loveyou lovely
monkey dragon shadow sunshine princess football baseball basketball soccer hockey superman
batman starwars pokemon freedom whatever computer internet charlie michael jennifer jessica
ashley daniel matthew andrew joshua thomas hunter ranger buster killer jordan harley tigger
summer winter spring autumn flower butterfly chocolate cookie cheese pepper ginger banana
orange purple yellow silver golden diamond money changeme default guest test testing
hello hello1 welcome1 abc abcd abcdef abcdefgh qazwsx zaq12wsx 1qaz2wsx 1q2w3e 1q2w3e4r
qwe123 asd123 zxc123 aaa abc123 mypassword newpassword yourpassword temppassword
clinic clinical medical medicine health healthcare doctor nurse nursing patient patients
hospital surgery pharmacy consent kiosk tablet frontdesk reception receptionist staff
clinician therapist dermatology derma skincare skin beauty aesthetic aesthetics spa
microneedling needling facial laser botox filler wellness riverside office company
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
""".split()

# Passphrases that became famous or are what a tired person types; spaces are kept as typed
# and also squeezed out.
PHRASES = [
    "iloveyoutoo", "letmeinplease", "correct horse battery staple", "passwordpassword",
    "qwertyqwerty", "qwertyuiop", "qwertyuiopasdfghjkl", "asdfghjklzxcvbnm", "qwertyuiop123",
    "qwertyuiop1234", "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "1q2w3e4r5t6y", "1q2w3e4r5t6y7u8i",
    "q1w2e3r4t5y6", "zaq1xsw2cde3", "zaq12wsxcde3", "abcdefghijkl", "abcdefghijklm",
    "abcdefghijklmnop", "the quick brown fox", "the quick brown fox jumps over the lazy dog",
    "i am the best", "i am the boss", "welcome to the clinic", "change me now",
    "change me please", "please let me in", "opensesame12", "supersecret123",
    "i love you so much", "let me in now", "my password is", "this is my password",
]

DIGIT_RUNS = [
    "123456789012", "1234567890123", "12345678901234", "123456789000", "098765432109",
    "0987654321", "1234567890", "123456789", "12345678", "123456", "987654321",
    "147258369", "159753", "741852963", "963852741", "112233445566", "121212121212",
    "123123123123", "123321123321", "696969696969", "abcabcabcabc",
]
SUFFIXES = [
    "", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "!!", "01", "007",
    "69", "99", "00", "2020", "2021", "2022", "2023", "2024", "2025", "2026", "2027",
    "2024!", "2025!", "2026!", "@123", "#1", "$$",
]


def generate() -> list[str]:
    candidates: set[str] = set()
    for word in WORDS:
        base = word.lower()
        for suffix in SUFFIXES:
            candidates.add(base + suffix)
        candidates.add(base * 2)
        candidates.add(base * 3)
        for year in range(1950, 2031):
            candidates.add(f"{base}{year}")
    for first, second in itertools.permutations(
        ["password", "qwerty", "welcome", "letmein", "admin", "iloveyou", "monkey", "dragon",
         "sunshine", "football", "clinic", "doctor", "nurse", "patient", "health", "medical"],
        2,
    ):
        candidates.add(first + second)
        candidates.add(first + second + "1")
    for phrase in PHRASES:
        phrase = phrase.strip().lower()
        if phrase:
            candidates.add(phrase)
            candidates.add(phrase.replace(" ", ""))
    for run in DIGIT_RUNS:
        candidates.add(run)
        candidates.add(run * 2)
    for digit in "0123456789":
        candidates.update(digit * n for n in range(MIN_LENGTH, 17))
    for letter in "abcdefghijklmnopqrstuvwxyz":
        candidates.add(letter * MIN_LENGTH)
    return sorted(entry for entry in candidates if MIN_LENGTH <= len(entry) <= 64)


if __name__ == "__main__":
    print("\n".join(generate()))
