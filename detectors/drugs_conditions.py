"""Drug classes and medical conditions with a reported association with night-time leg
cramps (brief 5.3): the literature's finding and evidence grade for each, and the mapping of a
participant's medication and condition entries to those classes.

Used by :mod:`detectors.exposures` (the ``cramp_drug_classes`` / ``cramp_condition_classes``
columns of ``daily_exposures``) and :mod:`detectors.triggers` (conditions and medications shown
as context beside the trigger statistics). Kept apart from the exposure computation so that
reading the table needs neither scipy nor the heat formulas. Pure; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class DrugClass:
    """A drug class with a reported association with (nocturnal) leg cramps."""

    key: str
    evidence: str  # what was reported, with the effect size where there is one
    grade: str  # brief evidence grade (A-D)
    references: tuple[str, ...]
    generics: tuple[str, ...]  # lower-case generic names


#: [garrison2012] sequence symmetry analysis, BC, >= 50 y: adjusted sequence ratio (95 % CI)
#: for starting quinine in the year after starting the drug; [allen2012] drug list; brief 5.3
CRAMP_DRUG_CLASSES: tuple[DrugClass, ...] = (
    DrugClass(
        "thiazide_diuretic",
        "ASR 1.48 (1.29-1.68), thiazide-like diuretics",
        "B",
        ("garrison2012", "allen2012"),
        ("hydrochlorothiazide", "chlorthalidone", "chlortalidone", "indapamide", "metolazone",
         "chlorothiazide", "bendroflumethiazide", "bendrofluazide", "methyclothiazide",
         "polythiazide", "trichlormethiazide", "xipamide", "cyclopenthiazide"),
    ),
    DrugClass(
        "potassium_sparing_diuretic",
        "ASR 2.12 (1.61-2.78)",
        "B",
        ("garrison2012",),
        ("spironolactone", "eplerenone", "amiloride", "triamterene", "finerenone",
         "canrenone"),
    ),
    DrugClass(
        "loop_diuretic",
        "ASR 1.20 (1.00-1.44), not significant",
        "C",
        ("garrison2012",),
        ("furosemide", "frusemide", "bumetanide", "torsemide", "torasemide",
         "ethacrynic acid", "etacrynic acid", "piretanide"),
    ),
    DrugClass(
        "long_acting_beta2_agonist",
        "ASR 2.42 (2.02-2.89); LABA alone 2.17, LABA + inhaled corticosteroid 2.55",
        "B",
        ("garrison2012",),
        ("salmeterol", "formoterol", "eformoterol", "arformoterol", "vilanterol",
         "indacaterol", "olodaterol", "bambuterol", "clenbuterol"),
    ),
    DrugClass(
        "statin",
        "ASR 1.16 (1.04-1.29), small",
        "C",
        ("garrison2012", "allen2012"),
        ("atorvastatin", "simvastatin", "rosuvastatin", "pravastatin", "lovastatin",
         "fluvastatin", "pitavastatin", "cerivastatin"),
    ),
    DrugClass(
        "pregabalin",
        "product label: muscle cramp uncommon (0.1-1 %)",
        "C",
        ("ema_lyrica",),
        ("pregabalin",),
    ),
    DrugClass(
        "other_reported",
        "reported associations, low overall incidence (IV iron sucrose, conjugated "
        "oestrogens, raloxifene, naproxen, teriparatide)",
        "C",
        ("allen2012",),
        ("iron sucrose", "conjugated estrogens", "conjugated oestrogens", "raloxifene",
         "naproxen", "teriparatide"),
    ),
)  # fmt: skip

#: [allen2012] [hu2022] [luo2020] [crampwatch_brief] 5.3: conditions with reported cramp
#: associations; condition term (lower case, as in participants.conditions) -> class
CRAMP_CONDITIONS: dict[str, tuple[str, str]] = {
    # class: (evidence, grade)
    "type2_diabetes": ("48 % had cramps in 3 months (Hu 2022, n = 150)", "C"),
    "peripheral_artery_disease": ("75 % of veterans with PVD (Oboler 1991 via Allen 2012)", "C"),
    "cirrhosis": ("about 60 % report cramps (Allen & Kirby 2012)", "B/C"),
    "haemodialysis": ("33-86 % during dialysis; nocturnal link weaker", "C"),
    "hypokalaemia": ("63 % in a veteran survey (Allen & Kirby 2012)", "C"),
    "neuromuscular_disorder": ("recognised feature, e.g. motor neuron disease", "B"),
    "thyroid_parathyroid": ("plausible (hypothyroid myopathy, hypocalcaemia); no NLC data", "C/D"),
    "pregnancy": ("common in the 2nd and 3rd trimesters", "B"),
}
CONDITION_SYNONYMS: dict[str, str] = {
    "type2_diabetes": "type2_diabetes",
    "type_2_diabetes": "type2_diabetes",
    "t2dm": "type2_diabetes",
    "diabetes": "type2_diabetes",
    "diabetes_mellitus_type_2": "type2_diabetes",
    "peripheral_artery_disease": "peripheral_artery_disease",
    "peripheral_arterial_disease": "peripheral_artery_disease",
    "peripheral_vascular_disease": "peripheral_artery_disease",
    "pad": "peripheral_artery_disease",
    "cirrhosis": "cirrhosis",
    "liver_cirrhosis": "cirrhosis",
    "haemodialysis": "haemodialysis",
    "hemodialysis": "haemodialysis",
    "dialysis": "haemodialysis",
    "esrd": "haemodialysis",
    "end_stage_renal_disease": "haemodialysis",
    "hypokalaemia": "hypokalaemia",
    "hypokalemia": "hypokalaemia",
    "motor_neuron_disease": "neuromuscular_disorder",
    "als": "neuromuscular_disorder",
    "amyotrophic_lateral_sclerosis": "neuromuscular_disorder",
    "peripheral_neuropathy": "neuromuscular_disorder",
    "neuropathy": "neuromuscular_disorder",
    "hypothyroidism": "thyroid_parathyroid",
    "hyperthyroidism": "thyroid_parathyroid",
    "hypoparathyroidism": "thyroid_parathyroid",
    "hyperparathyroidism": "thyroid_parathyroid",
    "pregnancy": "pregnancy",
    "pregnant": "pregnancy",
}

_GENERIC_TO_CLASS: dict[str, str] = {g: c.key for c in CRAMP_DRUG_CLASSES for g in c.generics}


def _drug_tokens(name: str) -> list[str]:
    """A medication entry and its parts: ``"losartan/hydrochlorothiazide"`` -> both names."""
    n = re.sub(r"\s+", " ", name.strip().lower().replace("_", " "))
    parts = [t.strip() for t in re.split(r"[/+,;]| and | with ", n) if t.strip()]
    out = [n, *parts]
    for t in parts:  # strip salts and doses: "atorvastatin calcium 20 mg" -> "atorvastatin"
        out.append(t.split(" ")[0])
    return out


def cramp_drug_classes(medications: list[str] | None) -> list[str]:
    """Sorted cramp-associated drug classes (``CRAMP_DRUG_CLASSES`` keys) of a medication list.

    >>> cramp_drug_classes(["Fluticasone/Salmeterol", "atorvastatin"])
    ['long_acting_beta2_agonist', 'statin']
    """
    found = set()
    for m in medications or []:
        if not m:
            continue
        for t in _drug_tokens(m):
            if t in _GENERIC_TO_CLASS:
                found.add(_GENERIC_TO_CLASS[t])
    return sorted(found)


def cramp_condition_classes(conditions: list[str] | None) -> list[str]:
    """Sorted cramp-associated condition classes (``CRAMP_CONDITIONS`` keys)."""
    found = set()
    for c in conditions or []:
        if c:
            key = re.sub(r"[\s\-]+", "_", c.strip().lower())
            if key in CONDITION_SYNONYMS:
                found.add(CONDITION_SYNONYMS[key])
    return sorted(found)
