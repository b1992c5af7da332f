"""Social Security, Insurance, Tax and Identifier Numbers: national identifiers with reliable rules."""

from __future__ import annotations

from collections.abc import Callable

from openai_casb.dlp import validators as v
from openai_casb.dlp.detectors.base import Detector, single_entry
from openai_casb.dlp.settings import Confidence
from openai_casb.dlp.validators import Form

PROFILE = "Social Security, Insurance, Tax and Identifier Numbers"


def _digits(key: str, entry: str, pattern: str, check: object, keywords: tuple[str, ...],
            base: Confidence = Confidence.LOW, segment: str = "digits", max_length: int = 16,
            judge: Callable[[str, int, int], Form | None] | None = None) -> Detector:
    assert callable(check)
    return Detector(
        key=key, profile=PROFILE, entries=(entry,), pattern=pattern, segment=segment,
        classify=single_entry(entry, check), keywords=keywords, base=base, max_length=max_length, judge=judge,
    )


# Keywords are whole words (see engine._keyword_regex); capitals are acronyms matched in capitals
# only (`SIN`, not `np.sin`). Ambiguous words are left out: "uid" (Unix ids), "patient" alone
# (`patient_ref` columns), "ato", "tin", "ssid" (Wi-Fi).


DETECTORS: tuple[Detector, ...] = (
    # Separated form only; a bare 9-digit run is far too common to call an SSN.
    _digits("us_ssn", "US Social Security Number", r"[0-8][0-9]{2}[\- .][0-9]{2}[\- .][0-9]{4}", v.us_ssn_ok,
            ("ssn", "social security", "social security number", "ss#", "ss #", "social sec"), Confidence.MEDIUM),
    _digits("us_itin", "US ITIN", r"9[0-9]{2}[\- ][5-9][0-9][\- ][0-9]{4}", v.us_itin_ok,
            ("itin", "taxpayer", "tax id", "TIN", "IRS"), Confidence.MEDIUM),
    Detector(
        key="uk_nino", profile=PROFILE, entries=("UK National Insurance Number",),
        pattern=r"[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]", scan_pattern=r"[A-Z]{2} ?[0-9]{2}", segment="alnum",
        classify=single_entry("UK National Insurance Number", v.uk_nino_ok),
        keywords=("national insurance", "nino", "ni number", "ni no", "insurance number"),
        base=Confidence.MEDIUM, max_length=13,
    ),
    _digits("uk_nhs", "UK NHS Number", r"[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{4}", v.uk_nhs_ok,
            ("nhs", "nhs number", "nhs no", "national health", "health service", "patient number", "patient no")),
    _digits("ca_sin", "Canada SIN", r"[1-79][0-9]{2}[ \-]?[0-9]{3}[ \-]?[0-9]{3}", v.ca_sin_ok,
            ("SIN", "sin number", "social insurance", "social insurance number", "numero d'assurance sociale",
             "assurance sociale")),
    _digits("au_tfn", "Australia TFN", r"[0-9]{3} ?[0-9]{3} ?[0-9]{3}", v.au_tfn_ok,
            ("tfn", "tfn number", "tax file", "tax file number", "australian tax", "ATO")),
    _digits("in_aadhaar", "India Aadhaar", r"[2-9][0-9]{3}[ \-]?[0-9]{4}[ \-]?[0-9]{4}", v.in_aadhaar_ok,
            ("aadhaar", "aadhar", "uidai", "aadhaar number"), Confidence.MEDIUM, judge=v.aadhaar_form),
    _digits("br_cpf", "Brazil CPF", r"[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}\-?[0-9]{2}", v.br_cpf_ok,
            ("cpf", "cpf number", "numero cpf", "cadastro de pessoas", "pessoa fisica", "contribuinte")),
    Detector(
        key="es_dni", profile=PROFILE, entries=("Spain DNI/NIE",),
        pattern=r"[0-9XYZ][0-9]{7}\-?[A-Z]", scan_pattern=r"[0-9]{7}\-?[A-Z]", segment="alnum",
        classify=single_entry("Spain DNI/NIE", v.es_dni_ok),
        keywords=("dni", "nie", "nif", "documento nacional", "identidad", "extranjero"),
        base=Confidence.MEDIUM, max_length=10,
    ),
    _digits("nl_bsn", "Netherlands BSN", r"[0-9]{9}", v.nl_bsn_ok,
            ("bsn", "bsn nummer", "bsn number", "burgerservicenummer", "sofinummer", "citizen service",
             "citizen service number")),
    _digits("pl_pesel", "Poland PESEL", r"[0-9]{11}", v.pl_pesel_ok,
            ("pesel", "pesel number", "numer pesel", "numer ewidencyjny")),
    _digits("se_personnummer", "Sweden Personnummer", r"(?:19|20)?[0-9]{6}[\-+]?[0-9]{4}", v.se_personnummer_ok,
            ("personnummer", "personnr", "samordningsnummer", "swedish id"), segment="token"),
)
