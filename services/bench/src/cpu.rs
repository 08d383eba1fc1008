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

use procfs::CurrentSI;

use crate::results::{Cpu, round};

/// CPU seconds (user + system, all threads) process `pid` has used;
/// `None` where there is no procfs or no such process.
pub fn process_s(pid: u32) -> Option<f64> {
    let stat = procfs::process::Process::new(i32::try_from(pid).ok()?)
        .ok()?
        .stat()
        .ok()?;
    Some((stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64)
}

/// Cumulative time of all cores, in clock ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct MachineTicks {
    busy: u64,
    steal: u64,
    total: u64,
}

impl MachineTicks {
    fn now() -> Option<MachineTicks> {
        procfs::KernelStats::current()
            .ok()
            .map(|k| MachineTicks::of(&k.total))
    }

    /// Guest time is already counted in user time.
    fn of(t: &procfs::CpuTime) -> MachineTicks {
        let busy = t.user + t.nice + t.system + t.irq.unwrap_or(0) + t.softirq.unwrap_or(0);
        let steal = t.steal.unwrap_or(0);
        MachineTicks {
            busy,
            steal,
            total: busy + steal + t.idle + t.iowait.unwrap_or(0),
        }
    }
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
        let per = |s: f64| round(s * 1000.0 / events.max(1) as f64, 3);
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

    /// The figures of `results.json` for `events` events on `cores` cores.
    pub fn figures(&self, events: u64, cores: usize) -> Cpu {
        Cpu {
            cpu_ms_per_event: self.ms_per_event(events),
            cpu_bound_ceiling_per_s: self.ceiling_per_s(events, cores, ""),
            // The bench's clients would be phones, not the server's cores.
            cpu_bound_ceiling_without_bench_per_s: self.ceiling_per_s(events, cores, "bench"),
            machine_busy: self.machine.map(|(busy, _)| round(busy, 3)),
            machine_steal: self.machine.map(|(_, steal)| round(steal, 3)),
            wall_s: round(self.wall_s, 3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn this_process_and_the_machine_read_back() {
        assert!(process_s(std::process::id()).is_some_and(|s| s >= 0.0));
        assert_eq!(process_s(u32::MAX), None);
        let m = MachineTicks::now().expect("/proc/stat");
        assert!(m.total > 0 && m.busy + m.steal <= m.total, "{m:?}");
    }
}
