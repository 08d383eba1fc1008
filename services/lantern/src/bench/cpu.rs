//! CPU time spent by the processes of a phase, and by the whole machine.
//!
//! The intake under a burst is bound by the cores (the disk syncs once per
//! ≈ 17 events with group commit), so what says how far B can go is the CPU
//! each event costs: `lantern serve`, nats-server and the bench's own
//! clients, read from `/proc` before and after the phase. The machine's
//! share of busy and stolen time says whether the cores were full, and how
//! much of them a neighbour on the host took.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value, json};

/// CPU seconds (user + system, all threads) process `pid` has used, from
/// `/proc/<pid>/stat`; `None` where there is no procfs.
pub fn process_s(pid: u32) -> Option<f64> {
    parse_process_s(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// utime and stime, fields 14 and 15 of `/proc/<pid>/stat`, in seconds.
fn parse_process_s(stat: &str) -> Option<f64> {
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / ticks_per_s())
}

fn ticks_per_s() -> f64 {
    // SAFETY: sysconf reads a constant of the system; it has no
    // preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// Cumulative time of all cores, in clock ticks, from `/proc/stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct MachineTicks {
    busy: u64,
    steal: u64,
    total: u64,
}

impl MachineTicks {
    fn now() -> Option<MachineTicks> {
        parse_machine(&std::fs::read_to_string("/proc/stat").ok()?)
    }
}

/// The `cpu` line: user nice system idle iowait irq softirq steal (guest
/// time is already counted in user).
fn parse_machine(stat: &str) -> Option<MachineTicks> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal] = v.try_into().ok()?;
    Some(MachineTicks {
        busy: user + nice + system + irq + softirq,
        steal,
        total: user + nice + system + idle + iowait + irq + softirq + steal,
    })
}

/// Measures the CPU time of named processes over a phase.
pub struct Meter {
    processes: Vec<(&'static str, u32, Option<f64>)>,
    machine: Option<MachineTicks>,
    started: Instant,
}

impl Meter {
    /// Starts measuring `processes` (name, pid); a process without a pid is
    /// left out.
    pub fn start(processes: &[(&'static str, Option<u32>)]) -> Meter {
        Meter {
            processes: processes
                .iter()
                .filter_map(|(name, pid)| pid.map(|p| (*name, p, process_s(p))))
                .collect(),
            machine: MachineTicks::now(),
            started: Instant::now(),
        }
    }

    /// What the processes and the machine did since [`Meter::start`].
    pub fn stop(self) -> Usage {
        let wall_s = self.started.elapsed().as_secs_f64();
        let process_s = self
            .processes
            .into_iter()
            .filter_map(|(name, pid, before)| Some((name, process_s(pid)? - before?)))
            .collect();
        let machine = match (self.machine, MachineTicks::now()) {
            (Some(a), Some(b)) if b.total > a.total => {
                let total = (b.total - a.total) as f64;
                Some((
                    (b.busy - a.busy) as f64 / total,
                    (b.steal - a.steal) as f64 / total,
                ))
            }
            _ => None,
        };
        Usage {
            wall_s,
            process_s,
            machine,
        }
    }
}

/// CPU used over a phase.
#[derive(Debug)]
pub struct Usage {
    /// Wall-clock seconds of the phase.
    pub wall_s: f64,
    /// CPU seconds per process name.
    pub process_s: BTreeMap<&'static str, f64>,
    /// Busy and stolen shares of all cores' time, each 0–1.
    pub machine: Option<(f64, f64)>,
}

impl Usage {
    /// Milliseconds of CPU per event, per process and in all.
    pub fn ms_per_event(&self, events: u64) -> BTreeMap<String, f64> {
        let per = |s: f64| round3(s * 1000.0 / events.max(1) as f64);
        let mut out: BTreeMap<String, f64> = self
            .process_s
            .iter()
            .map(|(name, s)| ((*name).to_owned(), per(*s)))
            .collect();
        out.insert("total".into(), per(self.process_s.values().sum()));
        out
    }

    /// Events per second the measured processes but `except` could sustain
    /// if they had all of `cores` to themselves: the CPU-bound ceiling of
    /// the phase.
    pub fn ceiling_per_s(&self, events: u64, cores: usize, except: &str) -> Option<f64> {
        let cpu_s: f64 = self
            .process_s
            .iter()
            .filter(|(name, _)| **name != except)
            .map(|(_, s)| s)
            .sum();
        (cpu_s > 0.0).then(|| (cores as f64 * events as f64 / cpu_s).round())
    }

    /// The figures as JSON for `results.json`.
    pub fn to_json(&self, events: u64, cores: usize) -> Value {
        json!({
            "cpu_ms_per_event": self.ms_per_event(events),
            "cpu_bound_ceiling_per_s": self.ceiling_per_s(events, cores, ""),
            // The bench's clients would be phones, not the server's cores.
            "cpu_bound_ceiling_without_bench_per_s": self.ceiling_per_s(events, cores, "bench"),
            "machine_busy": self.machine.map(|(busy, _)| round3(busy)),
            "machine_steal": self.machine.map(|(_, steal)| round3(steal)),
            "wall_s": round3(self.wall_s),
        })
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_time_is_utime_plus_stime_past_a_name_with_spaces() {
        // Fields 14 (utime) and 15 (stime) are 250 and 50 ticks.
        let stat =
            "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        let s = parse_process_s(stat).unwrap();
        assert!((s - 300.0 / ticks_per_s()).abs() < 1e-9, "{s}");
        assert_eq!(parse_process_s("4242 (cut) S 1 2"), None);
    }

    #[test]
    fn machine_time_splits_busy_idle_and_steal() {
        let stat = "cpu  100 5 30 800 20 2 3 40 0 0\ncpu0 50 2 15 400 10 1 1 20 0 0\n";
        assert_eq!(
            parse_machine(stat),
            Some(MachineTicks {
                busy: 140,
                steal: 40,
                total: 1000,
            })
        );
        assert_eq!(parse_machine("cpu0 1 2 3\n"), None);
    }

    #[test]
    fn the_ceiling_is_the_cores_over_the_cpu_an_event_costs() {
        let usage = Usage {
            wall_s: 2.0,
            process_s: BTreeMap::from([("serve", 1.5), ("nats_server", 0.5)]),
            machine: Some((0.99, 0.01)),
        };
        // 2 CPU-s for 4,000 events: 0.5 ms each, 4,000/s on 2 cores.
        assert_eq!(usage.ms_per_event(4000)["total"], 0.5);
        assert_eq!(usage.ms_per_event(4000)["serve"], 0.375);
        assert_eq!(usage.ceiling_per_s(4000, 2, ""), Some(4000.0));
        assert_eq!(usage.ceiling_per_s(4000, 2, "nats_server"), Some(5333.0));
        let none = Usage {
            wall_s: 1.0,
            process_s: BTreeMap::new(),
            machine: None,
        };
        assert_eq!(none.ceiling_per_s(10, 2, ""), None);
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        assert!(process_s(std::process::id()).is_some_and(|s| s >= 0.0));
        assert!(MachineTicks::now().is_some_and(|m| m.total > 0));
    }
}
