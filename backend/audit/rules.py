"""The audit's thresholds, read once from the settings (``NOC_AUDIT_*``) into one frozen
object that every check takes: tests build variants with ``dataclasses.replace``."""
from __future__ import annotations

from dataclasses import dataclass

from backend.config import Settings

MINUTE = 60.0
HOUR = 3600.0


@dataclass(frozen=True)
class BaselineRules:
    threshold: float = 3.0          # |robust z| beyond this is anomalous (before adjustments)
    min_samples: int = 30           # below: learning only, never anomalous
    stable_samples: int = 100       # above: stable, more sensitive
    stable_factor: float = 0.85     # threshold x this when stable
    fp_limit: float = 0.3           # false-positive rate above this: less sensitive ...
    max_threshold: float = 6.0      # ... threshold x (1 + FP rate), capped here
    keep: int = 120                 # samples kept per profile (a bounded window, newest last)
    bootstrap_days: int = 35


@dataclass(frozen=True)
class AuditRules:
    interval_s: float = 5 * MINUTE
    lateness_s: float = 10 * MINUTE
    lookback_s: float = 60 * MINUTE
    signal_window_s: float = 60 * MINUTE
    no_show_s: float = 60 * MINUTE
    late_s: float = 15 * MINUTE
    early_out_s: float = 15 * MINUTE
    close_grace_s: float = 60 * MINUTE
    silent_s: float = 90 * MINUTE
    at_work_min_share: float = 0.5
    at_work_after_s: float = 120 * MINUTE
    geofence_margin_m: float = 50.0
    stuffing_gap_s: float = 60.0
    walk_speed_mps: float = 2.5
    scan_far_m: float = 150.0
    correlation_s: float = 15 * MINUTE
    ticket_dedup_s: float = 4 * HOUR
    ticket_max_age_s: float = 24 * HOUR
    tuning_days: int = 90
    tuning_after_days: float = 7.0
    baseline: BaselineRules = BaselineRules()

    def __post_init__(self) -> None:
        if (60 * MINUTE) % self.interval_s:
            # Windows end on multiples of the interval and cron fires on "*/N" minutes: both
            # agree only when N divides the hour.
            raise ValueError("NOC_AUDIT_INTERVAL_MINUTES must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)")
        if self.signal_window_s % self.interval_s:
            # A baseline sample is a whole number of cycles (the bootstrap sums cycle buckets).
            raise ValueError("NOC_AUDIT_SIGNAL_WINDOW_MINUTES must be a multiple of NOC_AUDIT_INTERVAL_MINUTES")

    @classmethod
    def from_settings(cls, s: Settings) -> "AuditRules":
        return cls(
            interval_s=s.audit_interval_minutes * MINUTE, lateness_s=s.audit_lateness_minutes * MINUTE,
            lookback_s=s.audit_lookback_minutes * MINUTE, signal_window_s=s.audit_signal_window_minutes * MINUTE,
            no_show_s=s.audit_no_show_minutes * MINUTE, late_s=s.audit_late_minutes * MINUTE,
            early_out_s=s.audit_early_out_minutes * MINUTE, close_grace_s=s.audit_close_grace_minutes * MINUTE,
            silent_s=s.audit_silent_minutes * MINUTE, at_work_min_share=s.audit_at_work_min_share,
            at_work_after_s=s.audit_at_work_after_minutes * MINUTE, geofence_margin_m=s.audit_geofence_margin_m,
            stuffing_gap_s=s.audit_stuffing_gap_s, walk_speed_mps=s.audit_walk_speed_mps,
            scan_far_m=s.audit_scan_far_m, correlation_s=s.audit_correlation_minutes * MINUTE,
            ticket_dedup_s=s.audit_ticket_dedup_hours * HOUR, ticket_max_age_s=s.audit_ticket_max_age_hours * HOUR,
            tuning_days=s.audit_tuning_days, tuning_after_days=s.audit_tuning_after_days,
            baseline=BaselineRules(
                threshold=s.audit_baseline_threshold, min_samples=s.audit_baseline_min_samples,
                stable_samples=s.audit_baseline_stable_samples, stable_factor=s.audit_baseline_stable_factor,
                fp_limit=s.audit_baseline_fp_limit, max_threshold=s.audit_baseline_max_threshold,
                keep=s.audit_baseline_keep, bootstrap_days=s.audit_baseline_bootstrap_days))

    def cron(self) -> str:
        """The cron expression of the audit cycle (host time zone: run rq cron with TZ=UTC)."""
        minutes = int(self.interval_s // MINUTE)
        return "0 * * * *" if minutes == 60 else f"*/{minutes} * * * *"
