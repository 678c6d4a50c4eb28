"""One local day: sleep, blood pressure, the workout and the activity summary, on top of the
quantity records of :class:`simulators.apple_export.records._DayRecords`."""

from __future__ import annotations

from simulators.apple_export.layout import HC, HK, PHONE, TZ_NAME, WATCH
from simulators.apple_export.records import _DayRecords
from simulators.apple_export.text import _meta, _num


class _Day(_DayRecords):
    """The records of one local day, per type (independent of the span around it)."""

    # ------------------------------------------------------------------ sleep

    def sleep(self) -> list[str]:
        """The night that starts on the evening of this day."""
        r = self.rng(12)
        bed = self.t0 + 22 * 3600 + 1800 + int(r.integers(0, 90 * 60))
        wake = bed + int(r.integers(int(6.3 * 3600), int(8.5 * 3600)))
        tz = _meta("HKTimeZone", TZ_NAME)
        segs = [(bed, wake, "HKCategoryValueSleepAnalysisInBed", self._phone())]
        t = bed + int(r.integers(300, 1500))
        if not self.modern:
            while t < wake - 1800:
                e = min(wake - 60, t + int(r.integers(40 * 60, 180 * 60)))
                segs.append((t, e, "HKCategoryValueSleepAnalysisAsleepUnspecified", self._watch()))
                t = e + int(r.integers(120, 900))
        else:
            cycle = [
                ("AsleepCore", 10, 40),
                ("AsleepDeep", 5, 30),
                ("AsleepCore", 5, 25),
                ("AsleepREM", 5, 30),
            ]
            i = 0
            while t < wake - 600:
                if r.random() < 0.12:
                    stage, lo, hi = "Awake", 1, 6
                else:
                    stage, lo, hi = cycle[i % len(cycle)]
                    i += 1
                e = min(wake, t + 60 * int(r.integers(lo, hi + 1)))
                segs.append((t, e, "HKCategoryValueSleepAnalysis" + stage, self._watch()))
                t = e
        segs.sort(key=lambda s: s[0])
        f = self.g.clock.fmt
        out = []
        for s, e, value, (source, version, device) in segs:
            out.append(
                f' <Record type="{HC}SleepAnalysis" sourceName="{source}" '
                f'sourceVersion="{version}"{device} creationDate="{f(wake + 600)}" '
                f'startDate="{f(s)}" endDate="{f(e)}" value="{value}">\n{tz} </Record>\n'
            )
        self.g.count_meta(len(out))
        return out

    # ------------------------------------------------------------------ blood pressure

    def blood_pressure(self) -> tuple[list[str], list[str], str | None]:
        """(systolic records, diastolic records, correlation) about twice a week."""
        r = self.rng(13)
        if r.random() >= 0.3:
            return [], [], None
        t = self.t0 + 7 * 3600 + int(r.integers(0, 3600))
        f = self.g.clock.fmt
        sys_v, dia_v = int(r.integers(115, 150)), int(r.integers(70, 95))
        src, ver = PHONE, self.phone_ver
        made = f(t + 30)

        def rec(kind, v, indent):
            return (
                f'{indent}<Record type="{HK}BloodPressure{kind}" sourceName="{src}" '
                f'sourceVersion="{ver}" unit="mmHg" creationDate="{made}" '
                f'startDate="{f(t)}" endDate="{f(t)}" value="{v}"/>\n'
            )

        corr = (
            f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" '
            f'sourceName="{src}" sourceVersion="{ver}" creationDate="{made}" '
            f'startDate="{f(t)}" endDate="{f(t)}">\n'
            + _meta("HKWasUserEntered", "1")
            + rec("Diastolic", dia_v, "  ")
            + rec("Systolic", sys_v, "  ")
            + " </Correlation>\n"
        )
        return [rec("Systolic", sys_v, " ")], [rec("Diastolic", dia_v, " ")], corr

    # ------------------------------------------------------------------ workouts, summary

    def workout(self) -> str | None:
        r = self.rng(14)
        if r.random() >= 0.73:
            return None
        kind = str(r.choice(["Walking", "Walking", "Running", "Cycling"]))
        start = self.t0 + 17 * 3600 + int(r.integers(0, 150 * 60))
        minutes = float(r.uniform(20, 80))
        end = start + int(minutes * 60)
        f = self.g.clock.fmt
        fs, fe = f(start), f(end)
        kcal = minutes * {"Walking": 4.5, "Running": 10.5, "Cycling": 8.0}[kind]
        km = minutes * {"Walking": 0.09, "Running": 0.18, "Cycling": 0.35}[kind]
        dist = f"{HK}DistanceCycling" if kind == "Cycling" else f"{HK}DistanceWalkingRunning"
        pause = start + int(minutes * 30)
        hr = r.normal({"Walking": 105, "Running": 150, "Cycling": 132}[kind], 9, 3)
        lines = [
            f' <Workout workoutActivityType="HKWorkoutActivityType{kind}" '
            f'duration="{_num(minutes, 10)}" durationUnit="min" sourceName="{WATCH}" '
            f'sourceVersion="{self.watch_ver}"{self.watch_dev} creationDate="{f(end + 40)}" '
            f'startDate="{fs}" endDate="{fe}">\n',
            _meta("HKIndoorWorkout", "0"),
            _meta("HKTimeZone", TZ_NAME),
            _meta("HKWeatherTemperature", f"{int(r.integers(2, 30))} degC"),
            _meta("HKWeatherHumidity", f"{int(r.integers(30, 95)) * 100} %"),
            _meta("HKAverageMETs", f"{_num(float(r.uniform(3, 9)), 5)} kcal/hr\u00b7kg"),
            f'  <WorkoutEvent type="HKWorkoutEventTypePause" date="{f(pause)}"/>\n',
            f'  <WorkoutEvent type="HKWorkoutEventTypeResume" date="{f(pause + 45)}"/>\n',
            f'  <WorkoutStatistics type="{HK}ActiveEnergyBurned" startDate="{fs}" '
            f'endDate="{fe}" sum="{_num(kcal, 6)}" unit="kcal"/>\n',
            f'  <WorkoutStatistics type="{HK}BasalEnergyBurned" startDate="{fs}" '
            f'endDate="{fe}" sum="{_num(minutes * 1.2, 6)}" unit="kcal"/>\n',
            f'  <WorkoutStatistics type="{dist}" startDate="{fs}" endDate="{fe}" '
            f'sum="{_num(km, 6)}" unit="km"/>\n',
            f'  <WorkoutStatistics type="{HK}HeartRate" startDate="{fs}" endDate="{fe}" '
            f'average="{_num(float(hr.mean()), 4)}" minimum="{int(hr.min()) - 20}" '
            f'maximum="{int(hr.max()) + 15}" unit="count/min"/>\n',
            f'  <WorkoutRoute sourceName="{WATCH}" sourceVersion="{self.watch_ver}" '
            f'creationDate="{f(end + 60)}" startDate="{fs}" endDate="{fe}">\n',
            _meta("HKMetadataKeySyncVersion", "2", "   "),
            f'   <FileReference path="/workout-routes/route_{self.d.isoformat()}_'
            f'{self._route_time(start)}.gpx"/>\n',
            "  </WorkoutRoute>\n",
            " </Workout>\n",
        ]
        return "".join(lines)

    def _route_time(self, ts: int) -> str:
        """Apple's route file time: ``6.59pm``."""
        sec = (ts + self.g.clock.offset(ts)) % 86400
        h, m = sec // 3600, sec % 3600 // 60
        return f"{h % 12 or 12}.{m:02d}{'am' if h < 12 else 'pm'}"

    def activity_summary(self) -> str:
        r = self.rng(15)
        return (
            f' <ActivitySummary dateComponents="{self.d.isoformat()}" '
            f'activeEnergyBurned="{_num(float(r.uniform(200, 900)), 3)}" '
            f'activeEnergyBurnedGoal="450" activeEnergyBurnedUnit="kcal" '
            f'appleMoveTime="0" appleMoveTimeGoal="0" '
            f'appleExerciseTime="{int(r.integers(0, 90))}" appleExerciseTimeGoal="30" '
            f'appleStandHours="{int(r.integers(6, 16))}" appleStandHoursGoal="12"/>\n'
        )
