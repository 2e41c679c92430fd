//! Debouncing with a leading edge: the first notification of a resource that was not checked
//! within the last window is due at once (a lone change is repaired without waiting); the
//! notifications that follow a check coalesce until the resource has been quiet for the
//! window, or until five windows have passed since the first of them (a resource that never
//! stops changing is still checked). A burst thus costs one check at its start, one per five
//! windows while it lasts, and one once it is over. Pure; the clock is an argument.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// How many windows a burst may last before its resource is checked anyway.
const MAX_WINDOWS: u32 = 5;

/// Why a resource is checked when no notification came for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Notifications (inotify, D-Bus, dpkg's status file).
    Watch,
    /// The periodic full check (or an inotify queue overflow, or a reconnect).
    FullCheck,
    /// The periodic check of what has nothing to watch (etcd memberships).
    Poll,
    /// The full check after `drift.resume` or a restart.
    Resume,
    /// A retry after a failed repair.
    Retry,
    /// The engine wants another look (a unit in transition, dpkg busy).
    Again,
}

impl Via {
    /// The name the drift event's `trigger` carries for checks without notifications.
    pub fn name(self) -> &'static str {
        match self {
            Via::Watch => "watch",
            Via::FullCheck => "full_check",
            Via::Poll => "poll",
            Via::Resume => "resume",
            Via::Retry => "retry",
            Via::Again => "again",
        }
    }
}

/// The coalesced notifications of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The first notification.
    pub first: Instant,
    /// The latest notification.
    pub last: Instant,
    /// How many notifications came (0 for a check without any).
    pub count: u64,
    /// The first non-empty inotify mask (0 when none).
    pub mask: u32,
    /// Why the resource is checked.
    pub via: Via,
}

impl Pending {
    /// A check that is due at `now`, with no notifications behind it.
    pub fn immediate(now: Instant, via: Via) -> Pending {
        Pending {
            first: now,
            last: now,
            count: 0,
            mask: 0,
            via,
        }
    }

    /// Fold `other` (a later look at the same resource) into this one.
    pub fn merge(&mut self, other: &Pending) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.count += other.count;
        if self.mask == 0 {
            self.mask = other.mask;
        }
        if self.count > 0 {
            self.via = Via::Watch;
        }
    }
}

/// Pending notifications per resource.
#[derive(Debug)]
pub struct Debouncer<K: Ord + Clone> {
    window: Duration,
    pending: BTreeMap<K, Pending>,
    /// Pending resources due at their first notification (the leading edge).
    leading: BTreeSet<K>,
    /// When each resource was last taken for a check (kept for one window).
    checked: BTreeMap<K, Instant>,
}

impl<K: Ord + Clone> Debouncer<K> {
    /// A debouncer with a quiet window of `window`.
    pub fn new(window: Duration) -> Self {
        Debouncer {
            window,
            pending: BTreeMap::new(),
            leading: BTreeSet::new(),
            checked: BTreeMap::new(),
        }
    }

    /// A notification for `key` at `now` (`mask`: the inotify mask, 0 for others).
    pub fn note(&mut self, key: K, mask: u32, now: Instant) {
        let quiet = self
            .checked
            .get(&key)
            .is_none_or(|c| now.saturating_duration_since(*c) >= self.window);
        if quiet && !self.pending.contains_key(&key) {
            self.leading.insert(key.clone());
        }
        let p = self.pending.entry(key).or_insert(Pending {
            first: now,
            last: now,
            count: 0,
            mask: 0,
            via: Via::Watch,
        });
        p.last = now;
        p.count += 1;
        p.via = Via::Watch;
        if p.mask == 0 {
            p.mask = mask;
        }
    }

    /// A look at `key` after one more window, with no notification behind it (a unit in
    /// transition, dpkg holding its lock).
    pub fn again(&mut self, key: K, now: Instant) {
        self.pending.entry(key).or_insert(Pending {
            first: now,
            last: now,
            count: 0,
            mask: 0,
            via: Via::Again,
        });
    }

    /// When `p` (pending for `key`) is due.
    fn due_at(&self, key: &K, p: &Pending) -> Instant {
        if self.leading.contains(key) {
            return p.first;
        }
        (p.last + self.window).min(p.first + self.window * MAX_WINDOWS)
    }

    /// The earliest moment a resource is due, if any is pending.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.iter().map(|(k, p)| self.due_at(k, p)).min()
    }

    /// Take the resources that are due at `now` (each counts as checked at `now`).
    pub fn take_due(&mut self, now: Instant) -> Vec<(K, Pending)> {
        let due: Vec<K> = self
            .pending
            .iter()
            .filter(|(k, p)| self.due_at(k, p) <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let window = self.window;
        self.checked
            .retain(|_, c| now.saturating_duration_since(*c) < window);
        due.into_iter()
            .filter_map(|k| {
                self.leading.remove(&k);
                self.checked.insert(k.clone(), now);
                self.pending.remove(&k).map(|p| (k, p))
            })
            .collect()
    }

    /// How many resources are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Nothing pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_millis(200);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_lone_change_is_due_at_once_then_the_window_applies() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(W);
        assert_eq!(d.next_due(), None);
        d.note("a", 0x2, t0);
        assert_eq!(d.next_due(), Some(t0), "leading edge");
        d.note("a", 0x8, t0 + ms(1));
        let due = d.take_due(t0 + ms(1));
        assert_eq!(due.len(), 1);
        let (k, p) = &due[0];
        assert_eq!(*k, "a");
        assert_eq!(p.count, 2, "what came before the check is folded in");
        assert_eq!(p.mask, 0x2, "the first mask is kept");
        assert_eq!(p.via, Via::Watch);
        assert!(d.is_empty());
        // Right after the check (the repair's own write, an editor's second step): quiet
        // window.
        d.note("a", 0x80, t0 + ms(50));
        d.note("a", 0x2, t0 + ms(100));
        assert_eq!(d.next_due(), Some(t0 + ms(300)));
        assert!(d.take_due(t0 + ms(299)).is_empty());
        assert_eq!(d.take_due(t0 + ms(300))[0].1.count, 2);
        // A window after the last check: a lone change is due at once again.
        d.note("a", 0x2, t0 + ms(600));
        assert_eq!(d.next_due(), Some(t0 + ms(600)));
    }

    #[test]
    fn a_burst_is_checked_at_its_start_every_five_windows_and_at_its_end() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(W);
        let mut fired = Vec::new();
        // 1500 writes in 1.5 s: one every millisecond.
        for i in 0..1500u64 {
            let now = t0 + ms(i);
            d.note("f", 0x2, now);
            fired.extend(d.take_due(now).into_iter().map(|(_, p)| (i, p.count)));
        }
        assert_eq!(fired, vec![(0, 1), (1001, 1001)]);
        // And one more once the burst is over and quiet.
        assert!(d.take_due(t0 + ms(1698)).is_empty());
        let last = d.take_due(t0 + ms(1699));
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].1.count, 498);
        assert!(d.is_empty());
    }

    #[test]
    fn resources_are_independent() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(W);
        d.note("a", 1, t0);
        d.note("b", 1, t0 + ms(150));
        assert_eq!(d.len(), 2);
        let due = d.take_due(t0);
        assert_eq!(due.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(d.next_due(), Some(t0 + ms(150)));
        d.note("a", 1, t0 + ms(160));
        let due = d.take_due(t0 + ms(150));
        assert_eq!(due.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec!["b"]);
        assert_eq!(d.next_due(), Some(t0 + ms(360)), "a waits for quiet");
    }

    #[test]
    fn again_waits_one_window_and_notifications_win() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(W);
        d.again("u", t0);
        assert_eq!(d.next_due(), Some(t0 + W));
        d.note("u", 0, t0 + ms(10));
        let due = d.take_due(t0 + ms(210));
        assert_eq!(due[0].1.via, Via::Watch);
        assert_eq!(due[0].1.count, 1);
    }

    #[test]
    fn merging_pending_checks() {
        let t0 = Instant::now();
        let mut a = Pending::immediate(t0 + ms(5), Via::FullCheck);
        let b = Pending {
            first: t0,
            last: t0 + ms(9),
            count: 3,
            mask: 0x100,
            via: Via::Watch,
        };
        a.merge(&b);
        assert_eq!(
            (a.first, a.last, a.count, a.mask),
            (t0, t0 + ms(9), 3, 0x100)
        );
        assert_eq!(a.via, Via::Watch);
    }
}
