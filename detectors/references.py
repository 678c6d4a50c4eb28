"""Bibliography of every source a detector threshold, formula or default relies on.

Parameter dataclasses cite these keys in their field comments (``# [<key>]``), and
docstrings cite them in their References sections. A key that starts with
``crampwatch_`` marks a value taken from the project's design brief
(``shared/research/detectors-science.md``); where the brief grades a value **D**
(engineering assumption, no direct evidence) the citing comment says so.
"""

from __future__ import annotations

REFERENCES: dict[str, str] = {
    # --- project design brief -------------------------------------------------------
    "crampwatch_brief": (
        "crampwatch design brief (2026) Dehydration-condition and nocturnal-leg-cramp "
        "detectors, and trigger statistics. shared/research/detectors-science.md. "
        "Values marked grade D there are engineering assumptions, not findings."
    ),
    # --- heat indices -------------------------------------------------------------------
    "nws_heat_index": (
        "NOAA/NWS Weather Prediction Center. The Heat Index Equation (Rothfusz regression, "
        "adjustments, simple formula). https://www.wpc.ncep.noaa.gov/html/heatindex_equation.shtml"
    ),
    "rothfusz1990": (
        "Rothfusz LP (1990) The heat index 'equation' (or, more than you ever wanted to know "
        "about heat index). NWS Southern Region Technical Attachment SR 90-23."
    ),
    "steadman1979": (
        "Steadman RG (1979) The assessment of sultriness. Part I: A temperature-humidity index "
        "based on human physiology and clothing science. J Appl Meteorol 18:861-873. "
        "doi:10.1175/1520-0450(1979)018<0861:TAOSPI>2.0.CO;2"
    ),
    "anderson2013": (
        "Anderson GB, Bell ML, Peng RD (2013) Methods to calculate the heat index as an exposure "
        "metric in environmental health research. Environ Health Perspect 121:1111-1119. "
        "doi:10.1289/ehp.1206273"
    ),
    "nws_heat_bands": (
        "NOAA/NWS. Heat Index chart and 'effect on the body' classification (Caution 80-90 F, "
        "Extreme Caution 90-103 F, Danger 103-124 F, Extreme Danger >= 125 F). "
        "https://www.weather.gov/safety/heat-index (version pinned in detectors.dehydration)"
    ),
    "osha_heat": (
        "OSHA. Heat index: risk levels and protective measures (Lower < 91 F, Moderate 91-103 F, "
        "High 103-115 F, Very high to extreme > 115 F). "
        "https://www.osha.gov/heat/heat-index/protective-measures"
    ),
    "lemke2012": (
        "Lemke B, Kjellstrom T (2012) Calculating workplace WBGT from meteorological data: a tool "
        "for climate change assessment. Ind Health 50:267-278. doi:10.2486/indhealth.MS1352 "
        "(saturation vapour pressure es(T) = 6.106 exp(17.27 T / (237.3 + T)) hPa)"
    ),
    # --- sweat and fluids --------------------------------------------------------------
    "gonzalez2009": (
        "Gonzalez RR, Cheuvront SN, Montain SJ, Goodman DA, Blanchard LA, Berglund LG, "
        "Sawka MN (2009) Expanded prediction equations of human sweat loss and water needs. "
        "J Appl Physiol 107:379-388. doi:10.1152/japplphysiol.00089.2009"
    ),
    "gonzalez2012": (
        "Gonzalez RR, Cheuvront SN, Ely BR, et al. (2012) Sweat rate prediction equations for "
        "outdoor exercise with transient solar radiation. J Appl Physiol 112:1300-1310. "
        "doi:10.1152/japplphysiol.01056.2011"
    ),
    "shapiro1982": (
        "Shapiro Y, Pandolf KB, Goldman RF (1982) Predicting sweat loss response to exercise, "
        "environment and clothing. Eur J Appl Physiol 48:83-96. doi:10.1007/BF00421168"
    ),
    "baker2016": (
        "Baker LB, Barnes KA, Anderson ML, Passe DH, Stofan JR (2016) Normative data for regional "
        "sweat sodium concentration and whole-body sweating rate in athletes. J Sports Sci "
        "34:358-368. doi:10.1080/02640414.2015.1055291"
    ),
    "barnes2019": (
        "Barnes KA, Anderson ML, Stofan JR, et al. (2019) Normative data for sweating rate, sweat "
        "sodium concentration, and sweat sodium loss in athletes. J Sports Sci 37:2356-2366. "
        "doi:10.1080/02640414.2019.1633159"
    ),
    "sawka2007": (
        "Sawka MN, Burke LM, Eichner ER, Maughan RJ, Montain SJ, Stachenfeld NS (2007) American "
        "College of Sports Medicine position stand: exercise and fluid replacement. Med Sci "
        "Sports Exerc 39:377-390. doi:10.1249/mss.0b013e31802ca597"
    ),
    "cheuvront2004": (
        "Cheuvront SN, Carter R, Montain SJ, Sawka MN (2004) Daily body mass variability and "
        "stability in active men undergoing exercise-heat stress. Int J Sport Nutr Exerc Metab "
        "14:532-540. doi:10.1123/ijsnem.14.5.532"
    ),
    "cheuvront2010": (
        "Cheuvront SN, Ely BR, Kenefick RW, Sawka MN (2010) Biological variation and diagnostic "
        "accuracy of dehydration assessment markers. Am J Clin Nutr 92:565-573. "
        "doi:10.3945/ajcn.2010.29490"
    ),
    "efsa2010": (
        "EFSA Panel on Dietetic Products, Nutrition and Allergies (2010) Scientific opinion on "
        "dietary reference values for water. EFSA J 8(3):1459. doi:10.2903/j.efsa.2010.1459"
    ),
    "iom2005": (
        "Institute of Medicine (2005) Dietary Reference Intakes for Water, Potassium, Sodium, "
        "Chloride, and Sulfate. National Academies Press. doi:10.17226/10925"
    ),
    "adams2014": (
        "Adams WM, Ferraro EM, Huggins RA, Casa DJ (2014) Influence of body mass loss on changes "
        "in heart rate during exercise in the heat: a systematic review. J Strength Cond Res "
        "28:2380-2389. doi:10.1519/JSC.0000000000000501"
    ),
    "carter2005": (
        "Carter R, Cheuvront SN, Wray DW, Kolka MA, Stephenson LA, Sawka MN (2005) The influence "
        "of hydration status on heart rate variability after exercise heat stress. J Therm Biol "
        "30:495-502. doi:10.1016/j.jtherbio.2005.05.006"
    ),
    "castro2014": (
        "Castro-Sepulveda M, Cerda-Kohler H, Perez-Luco C, et al. (2014) Hydration status after "
        "exercise affect resting metabolic rate and heart rate variability. Nutr Hosp "
        "31:1273-1277. doi:10.3305/nh.2015.31.3.8523"
    ),
    "mifflin1990": (
        "Mifflin MD, St Jeor ST, Hill LA, Scott BJ, Daugherty SA, Koh YO (1990) A new predictive "
        "equation for resting energy expenditure in healthy individuals. Am J Clin Nutr "
        "51:241-247. doi:10.1093/ajcn/51.2.241"
    ),
    "dubois1916": (
        "Du Bois D, Du Bois EF (1916) A formula to estimate the approximate surface area if "
        "height and weight be known. Arch Intern Med 17:863-871. "
        "doi:10.1001/archinte.1916.00080130010002"
    ),
    "iso8996": (
        "ISO 8996:2021 Ergonomics of the thermal environment - Determination of metabolic rate "
        "(1 met = 58.2 W/m2)."
    ),
    "icrp2002": (
        "ICRP (2002) Basic anatomical and physiological data for use in radiological protection: "
        "reference values. ICRP Publication 89. Ann ICRP 32(3-4). "
        "doi:10.1016/S0146-6453(03)00002-2 (reference adult male 73 kg / 176 cm, "
        "female 60 kg / 163 cm)"
    ),
    "leys2013": (
        "Leys C, Ley C, Klein O, Bernard P, Licata L (2013) Detecting outliers: do not use "
        "standard deviation around the mean, use absolute deviation around the median. J Exp "
        "Soc Psychol 49:764-766. doi:10.1016/j.jesp.2013.03.013"
    ),
    # --- nocturnal leg cramps and sleep movement ---------------------------------------
    "hallegraeff2017": (
        "Hallegraeff J, de Greef M, Krijnen W, van der Schans C (2017) Criteria in diagnosing "
        "nocturnal leg cramps: a systematic review. BMC Fam Pract 18:29. "
        "doi:10.1186/s12875-017-0600-x"
    ),
    "allen2012": ("Allen RE, Kirby KA (2012) Nocturnal leg cramps. Am Fam Physician 86:350-355."),
    "lavigne2001": (
        "Lavigne G, Brousseau M, Kato T, et al. (2001) Heart rate changes during sleep in response "
        "to experimental thermal (nociceptive) stimulations in healthy subjects. Clin "
        "Neurophysiol 112:532-535. doi:10.1016/S1388-2457(00)00557-7"
    ),
    "chouchou2011": (
        "Chouchou F, Pichot V, Perchet C, Legrain V, Garcia-Larrea L, Roche F, Bastuji H (2011) "
        "Autonomic pain responses during sleep: a study of heart rate variability. Eur J Pain "
        "15:554-560. doi:10.1016/j.ejpain.2010.11.011"
    ),
    "winkelman1999": (
        "Winkelman JW (1999) The evoked heart rate response to periodic leg movements of sleep. "
        "Sleep 22:575-580. doi:10.1093/sleep/22.5.575"
    ),
    "aasm_scoring": (
        "American Academy of Sleep Medicine. The AASM Manual for the Scoring of Sleep and "
        "Associated Events (periodic limb movements: >= 4 consecutive leg movements, "
        "inter-movement interval 5-90 s). https://aasm.org/clinical-resources/scoring-manual/"
    ),
    "ferri2016": (
        "Ferri R, Fulda S, Allen RP, et al. (2016) World Association of Sleep Medicine (WASM) "
        "2016 standards for recording and scoring leg movements in polysomnograms. Sleep Med "
        "26:86-95. doi:10.1016/j.sleep.2016.10.010"
    ),
    "walch2019": (
        "Walch O, Huang Y, Forger D, Goldstein C (2019) Sleep stage prediction with raw "
        "acceleration and photoplethysmography heart rate data derived from a consumer wearable "
        "device. Sleep 42:zsz180. doi:10.1093/sleep/zsz180"
    ),
    "vanhees2018": (
        "van Hees VT, Sabia S, Jones SE, et al. (2018) Estimating sleep parameters using an "
        "accelerometer without sleep diary. Sci Rep 8:12975. doi:10.1038/s41598-018-31266-z"
    ),
}


def cite(key: str) -> str:
    """Return the full reference for ``key`` (raises ``KeyError`` for an unknown key)."""
    return REFERENCES[key]
