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
    "hirshkowitz2015": (
        "Hirshkowitz M et al. (2015). National Sleep Foundation's sleep time duration "
        "recommendations: methodology and results summary. Sleep Health 1:40-43. "
        "https://doi.org/10.1016/j.sleh.2014.12.010 (adults: more than 10-11 h not recommended)"
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
    "ainsworth2011": (
        "Ainsworth BE, Haskell WL, Herrmann SD, et al. (2011) 2011 Compendium of Physical "
        "Activities: a second update of codes and MET values. Med Sci Sports Exerc "
        "43:1575-1581. doi:10.1249/MSS.0b013e31821ece12 (1 MET = 1 kcal/kg/h)"
    ),
    "haskell2007": (
        "Haskell WL, Lee IM, Pate RR, et al. (2007) Physical activity and public health: "
        "updated recommendation for adults from the ACSM and the AHA. Med Sci Sports Exerc "
        "39:1423-1434. doi:10.1249/mss.0b013e3180616b27 (light < 3, moderate 3-6, vigorous "
        ">= 6 MET; Fitbit's activity levels use these bands)"
    ),
    "iso8996": (
        "ISO 8996:2021 Ergonomics of the thermal environment - Determination of metabolic rate "
        "(1 met = 58.2 W/m2)."
    ),
    "iso7730": (
        "ISO 7730:2005 Ergonomics of the thermal environment - Analytical determination and "
        "interpretation of thermal comfort using calculation of the PMV and PPD indices "
        "(respiratory heat loss after Fanger PO (1970) Thermal Comfort: Cres = 0.0014 M "
        "(34 - ta), Eres = 1.7e-5 M (5867 - pa) with pa in Pa)."
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
    # --- actigraphy: sleep/wake, sleep period, non-wear (detectors/actigraphy.py) ---------
    "cole1992": (
        "Cole RJ, Kripke DF, Gruen W, Mullaney DJ, Gillin JC (1992) Automatic sleep/wake "
        "identification from wrist activity. Sleep 15:461-469. doi:10.1093/sleep/15.5.461 "
        "(1-min weights 106, 54, 58, 76, 230, 74, 67 x 0.001, sleep if D < 1; Webster "
        "rescoring rules a-e)"
    ),
    "sadeh1994": (
        "Sadeh A, Sharkey KM, Carskadon MA (1994) Activity-based sleep-wake identification: an "
        "empirical test of methodological issues. Sleep 17:201-207. doi:10.1093/sleep/17.3.201 "
        "(PS = 7.601 - 0.065 mean-W-5-min - 1.08 NAT - 0.056 SD-last 6 min - 0.703 LG, sleep "
        "if PS > 0)"
    ),
    "webster1982": (
        "Webster JB, Kripke DF, Messin S, Mullaney DJ, Wyborney G (1982) An activity-based "
        "sleep monitor system for ambulatory use. Sleep 5:389-399. doi:10.1093/sleep/5.4.389"
    ),
    "actilife": (
        "ActiGraph (2012) ActiLife 6 User's Manual, sleep scoring: Cole-Kripke applied to "
        "counts / 100 capped at 300; Sadeh applied to counts capped at 300, sleep if "
        "PS > -4. ActiGraph LLC, Pensacola FL."
    ),
    "freedson1998": (
        "Freedson PS, Melanson E, Sirard J (1998) Calibration of the Computer Science and "
        "Applications, Inc. accelerometer. Med Sci Sports Exerc 30:777-781. "
        "doi:10.1097/00005768-199805000-00021 (cut-points 100 / 1952 / 5725 counts/min; "
        "METs = 1.439008 + 0.000795 counts/min)"
    ),
    "tudorlocke2018": (
        "Tudor-Locke C, Han H, Aguiar EJ, et al. (2018) How fast is fast enough? Walking "
        "cadence (steps/min) as a practical estimate of intensity in adults: a narrative "
        "review. Br J Sports Med 52:776-788. doi:10.1136/bjsports-2017-097628 "
        "(100 steps/min ~ 3 METs, moderate intensity)"
    ),
    "choi2011": (
        "Choi L, Liu Z, Matthews CE, Buchowski MS (2011) Validation of accelerometer wear and "
        "nonwear time classification algorithm. Med Sci Sports Exerc 43:357-364. "
        "doi:10.1249/MSS.0b013e3181ed61a3 (>= 90 min of zero counts, 2-min spike tolerance)"
    ),
    "vanhees2011": (
        "van Hees VT, Renstrom F, Wright A, et al. (2011) Estimation of daily energy "
        "expenditure in pregnant and non-pregnant women using a wrist-worn tri-axial "
        "accelerometer. PLoS One 6:e22922. doi:10.1371/journal.pone.0022922 (non-wear from "
        "per-axis SD and range of raw acceleration)"
    ),
    "vanhees2013": (
        "van Hees VT, Gorzelniak L, Dean Leon EC, et al. (2013) Separating movement and gravity "
        "components in an acceleration signal and implications for the assessment of human "
        "daily physical activity. PLoS One 8:e61691. doi:10.1371/journal.pone.0061691 "
        "(ENMO; non-wear: 60-min windows in 15-min steps, SD < 13 mg and range < 50 mg on "
        ">= 2 of 3 axes)"
    ),
    "vanhees2015": (
        "van Hees VT, Sabia S, Anderson KN, et al. (2015) A novel, open access method to "
        "assess sleep duration using a wrist-worn accelerometer. PLoS One 10:e0142533. "
        "doi:10.1371/journal.pone.0142533 (sustained inactivity: z-angle change <= 5 deg "
        "for >= 5 min)"
    ),
    "ggir": (
        "Migueles JH, Rowlands AV, Huber F, Sabia S, van Hees VT (2019) GGIR: a research "
        "community-driven open source R package for generating physical activity and sleep "
        "outcomes from multi-day raw accelerometer data. J Meas Phys Behav 2:188-196. "
        "doi:10.1123/jmpb.2018-0063 (reference HDCZA implementation: threshold clipped to "
        "[0.13, 0.50] deg)"
    ),
    "ferri2021": (
        "Ferri R, Rundo F, Zucconi M, et al. (2021) Scoring of large muscle group movements "
        "during sleep: an International Restless Legs Syndrome Study Group position "
        "statement. Sleep 44:zsab092. doi:10.1093/sleep/zsab092 (3-45 s in adults)"
    ),
    "burgess1997": (
        "Burgess HJ, Trinder J, Kim Y, Luke D (1997) Sleep and circadian influences on cardiac "
        "autonomic nervous system activity. Am J Physiol 273:H1761-H1768. "
        "doi:10.1152/ajpheart.1997.273.4.H1761 (heart rate falls with sleep onset, beyond "
        "the circadian fall)"
    ),
    "haghayegh2019": (
        "Haghayegh S, Khoshnevis S, Smolensky MH, Diller KR, Castriotta RJ (2019) Accuracy of "
        "wristband Fitbit models in assessing sleep: systematic review and meta-analysis. "
        "J Med Internet Res 21:e16273. doi:10.2196/16273"
    ),
    "marino2013": (
        "Marino M, Li Y, Rueschman MN, et al. (2013) Measuring sleep: accuracy, sensitivity, "
        "and specificity of wrist actigraphy compared to polysomnography. Sleep 36:1747-1755. "
        "doi:10.5665/sleep.3142"
    ),
    "apple_hr_cadence": (
        "Apple Inc. Monitor your heart rate with Apple Watch (support.apple.com/HT204666): "
        "background heart-rate readings are taken periodically and vary with activity; a "
        "public Apple Health export (GitHub kairess/heart-rate-note, export_sample.xml, 2021) "
        "has resting readings 3 s-10.3 min apart (median 116 s, 90th "
        "percentile 435 s, longest 617 s outside the night the watch was off)"
    ),
    "cramp_fitted": (
        "crampwatch (2026) calibration, detectors/calibration.py: a value fitted on one "
        "participant's journal-labelled nights, with leave-one-night-out scoring; the fitted "
        "parameter set names its origin in CrampParams.name and evidence.params_id"
    ),
    # --- heat indices, WBGT and solar geometry (daily exposures) -------------------------
    "steadman1994": (
        "Steadman RG (1994) Norms of apparent temperature in Australia. Aust Met Mag 43:1-16 "
        "(shade apparent temperature AT = Ta + 0.33 e - 0.70 ws - 4.00, e in hPa, ws 10 m m/s)"
    ),
    "bom_thermal": (
        "Australian Bureau of Meteorology. Thermal comfort observations: apparent temperature "
        "and WBGT approximation (e = RH/100 x 6.105 exp(17.27 T / (237.7 + T)) hPa). "
        "http://www.bom.gov.au/info/thermal_stress/"
    ),
    "liljegren2008": (
        "Liljegren JC, Carhart RA, Lawday P, Tschopp S, Sharp R (2008) Modeling the wet bulb "
        "globe temperature using standard meteorological measurements. J Occup Environ Hyg "
        "5:645-655. doi:10.1080/15459620802310770 (eq. 13: direct-beam fraction "
        "exp(3 - 1.34 S* - 1.65 / S*), S* = S / S_max capped at 0.85, solar constant 1367 W/m2)"
    ),
    "thermofeel": (
        "Brimicombe C, Di Napoli C, Quintino T, Pappenberger F, Cornforth R, Cloke HL (2022) "
        "thermofeel: a python thermal comfort indices library. SoftwareX 18:101005. "
        "doi:10.1016/j.softx.2022.101005 (version 2.3: calculate_wbgt_liljegren, validated "
        "against Liljegren's reference C code; KNMI wind and direct-beam guards)"
    ),
    "kong2022": (
        "Kong Q, Huber M (2022) Explicit calculations of wet-bulb globe temperature compared "
        "with approximations and why it matters for labor productivity. Earth's Future "
        "10:e2021EF002334. doi:10.1029/2021EF002334"
    ),
    "bernard1999": (
        "Bernard TE, Pourmoghani M (1999) Prediction of workplace wet bulb global temperature. "
        "Appl Occup Environ Hyg 14:126-134. doi:10.1080/104732299303296 (indoor WBGT = "
        "0.67 Tpwb + 0.33 Ta, as parameterised by Lemke & Kjellstrom 2012)"
    ),
    "stull2011": (
        "Stull R (2011) Wet-bulb temperature from relative humidity and air temperature. J Appl "
        "Meteorol Climatol 50:2267-2269. doi:10.1175/JAMC-D-11-0143.1"
    ),
    "brimicombe2023": (
        "Brimicombe C, Lo CHB, Pappenberger F, et al. (2023) Wet bulb globe temperature: "
        "indicating extreme heat risk on a global grid. GeoHealth 7:e2022GH000701. "
        "doi:10.1029/2022GH000701"
    ),
    "armstrong2007": (
        "Armstrong LE, Casa DJ, Millard-Stafford M, et al. (2007) American College of Sports "
        "Medicine position stand: exertional heat illness during training and competition. Med "
        "Sci Sports Exerc 39:556-572. doi:10.1249/MSS.0b013e31802fa199"
    ),
    "spencer1971": (
        "Spencer JW (1971) Fourier series representation of the position of the sun. Search "
        "2(5):172 (solar declination, equation of time and Earth-Sun distance factor)"
    ),
    # --- nutrient reference intakes -------------------------------------------------------
    "iom1997": (
        "Institute of Medicine (1997) Dietary Reference Intakes for Calcium, Phosphorus, "
        "Magnesium, Vitamin D, and Fluoride. National Academies Press. doi:10.17226/5776"
    ),
    "iom2011": (
        "Institute of Medicine (2011) Dietary Reference Intakes for Calcium and Vitamin D. "
        "National Academies Press. doi:10.17226/13050"
    ),
    "nasem2019": (
        "National Academies of Sciences, Engineering, and Medicine (2019) Dietary Reference "
        "Intakes for Sodium and Potassium (Table S-1). National Academies Press. "
        "doi:10.17226/25353"
    ),
    "iom2000": (
        "Institute of Medicine (2000) Dietary Reference Intakes: Applications in Dietary "
        "Assessment. National Academies Press. doi:10.17226/9956 (individual assessment: "
        "z = (mean - EAR) / sqrt(SD_req^2 + SD_within^2 / n), SD_req = 10 % of the EAR)"
    ),
    "nih_ods": (
        "NIH Office of Dietary Supplements. Health professional fact sheets: Magnesium, "
        "Calcium, Potassium, Vitamin D (RDA/AI/UL tables, as read for the 2026 brief). "
        "https://ods.od.nih.gov/factsheets/Magnesium-HealthProfessional/ ; "
        "https://ods.od.nih.gov/factsheets/Calcium-HealthProfessional/ ; "
        "https://ods.od.nih.gov/factsheets/Potassium-HealthProfessional/ ; "
        "https://ods.od.nih.gov/factsheets/VitaminD-HealthProfessional/"
    ),
    # --- cramp-associated drugs and conditions ---------------------------------------------
    "garrison2012": (
        "Garrison SR, Dormuth CR, Morrow RL, Carney GA, Khan KM (2012) Nocturnal leg cramps and "
        "prescription use that precedes them: a sequence symmetry analysis. Arch Intern Med "
        "172:120-126. doi:10.1001/archinternmed.2011.1029"
    ),
    "garrison2020": (
        "Garrison SR, Korownyk CS, Kolber MR, et al. (2020) Magnesium for skeletal muscle "
        "cramps. Cochrane Database Syst Rev CD009402. doi:10.1002/14651858.CD009402.pub3"
    ),
    "ema_lyrica": (
        "European Medicines Agency. Lyrica (pregabalin) EPAR, product information (muscle cramp "
        "listed as uncommon). https://www.ema.europa.eu/en/medicines/human/EPAR/lyrica"
    ),
    "hu2022": (
        "Hu H, Zhou Z, Zhang J, et al. (2022) Relationship between muscle cramps and diabetic "
        "retinopathy in type 2 diabetes. Diabetes Metab Syndr Obes 15:827-837. "
        "doi:10.2147/DMSO.S352735"
    ),
    "luo2020": (
        "Luo L, Zhou K, Zhang J, et al. (2020) Interventions for leg cramps in pregnancy. "
        "Cochrane Database Syst Rev CD010655. doi:10.1002/14651858.CD010655.pub3"
    ),
    "roenneberg2007": (
        "Roenneberg T, Kuehnle T, Juda M, et al. (2007) Epidemiology of the human circadian "
        "clock. Sleep Med Rev 11:429-438. doi:10.1016/j.smrv.2007.07.005 (mid-sleep on free "
        "days spans roughly 01:00-08:00 local in the general population)"
    ),
    "cole1999": (
        "Cole CR, Blackstone EH, Pashkow FJ, Snader CE, Lauer MS (1999) Heart-rate recovery "
        "immediately after exercise as a predictor of mortality. N Engl J Med 341:1351-1357. "
        "doi:10.1056/NEJM199910283411804 (HR falls by ~12 bpm or more in the first minute "
        "after exercise, and keeps falling over the next minutes)"
    ),
    "iso7933": (
        "ISO 7933:2004 Ergonomics of the thermal environment - Analytical determination and "
        "interpretation of heat stress using calculation of the predicted heat strain (PHS). "
        "Malchaire J et al. (2001) Development and validation of the predicted heat strain "
        "model. Ann Occup Hyg 45:123-135. doi:10.1016/S0003-4878(00)00030-2 (required "
        "wettedness w = Ereq/Emax, sweating efficiency r = 1 - w^2/2, w_max 0.85 / 1.0 and "
        "SW_max 400 / 500 W/m2 for non-acclimatised / acclimatised subjects)"
    ),
    "candas1979": (
        "Candas V, Libert JP, Vogt JJ (1979) Influence of air velocity and heat acclimation on "
        "human skin wettedness and sweating efficiency. J Appl Physiol 47:1194-1200. "
        "doi:10.1152/jappl.1979.47.6.1194 (sweating efficiency falls as skin wettedness rises)"
    ),
    "kalman1960": (
        "Kalman RE (1960) A new approach to linear filtering and prediction problems. "
        "J Basic Eng 82:35-45. doi:10.1115/1.3662552"
    ),
    "rauch1965": (
        "Rauch HE, Tung F, Striebel CT (1965) Maximum likelihood estimates of linear dynamic "
        "systems. AIAA J 3:1445-1450. doi:10.2514/3.3166 (the RTS fixed-interval smoother)"
    ),
}
