//! Requisite types, with Salt's names and weights (`salt.utils.requisite.RequisiteType`).

/// One direct requisite type. The discriminant is Salt's weight (declaration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequisiteType {
    /// `onfail`
    Onfail = 0,
    /// `onfail_any`
    OnfailAny,
    /// `onfail_all`
    OnfailAll,
    /// `require`
    Require,
    /// `require_any`
    RequireAny,
    /// `onchanges`
    Onchanges,
    /// `onchanges_any`
    OnchangesAny,
    /// `watch`
    Watch,
    /// `watch_any`
    WatchAny,
    /// `prereq`
    Prereq,
    /// `prerequired`
    Prerequired,
    /// `listen`
    Listen,
}

impl RequisiteType {
    /// Every type, in Salt's declaration order.
    pub const ALL: [RequisiteType; 12] = [
        RequisiteType::Onfail,
        RequisiteType::OnfailAny,
        RequisiteType::OnfailAll,
        RequisiteType::Require,
        RequisiteType::RequireAny,
        RequisiteType::Onchanges,
        RequisiteType::OnchangesAny,
        RequisiteType::Watch,
        RequisiteType::WatchAny,
        RequisiteType::Prereq,
        RequisiteType::Prerequired,
        RequisiteType::Listen,
    ];

    /// The types that become graph edges, in the order Salt adds them.
    pub const EDGES: [RequisiteType; 10] = [
        RequisiteType::Require,
        RequisiteType::RequireAny,
        RequisiteType::Watch,
        RequisiteType::WatchAny,
        RequisiteType::Prereq,
        RequisiteType::Onfail,
        RequisiteType::OnfailAny,
        RequisiteType::OnfailAll,
        RequisiteType::Onchanges,
        RequisiteType::OnchangesAny,
    ];

    /// Salt's keyword.
    pub fn name(self) -> &'static str {
        match self {
            RequisiteType::Onfail => "onfail",
            RequisiteType::OnfailAny => "onfail_any",
            RequisiteType::OnfailAll => "onfail_all",
            RequisiteType::Require => "require",
            RequisiteType::RequireAny => "require_any",
            RequisiteType::Onchanges => "onchanges",
            RequisiteType::OnchangesAny => "onchanges_any",
            RequisiteType::Watch => "watch",
            RequisiteType::WatchAny => "watch_any",
            RequisiteType::Prereq => "prereq",
            RequisiteType::Prerequired => "prerequired",
            RequisiteType::Listen => "listen",
        }
    }

    /// Salt's weight (used by the ordering).
    pub fn weight(self) -> u8 {
        self as u8
    }

    /// The type without `_any` / `_all`.
    pub fn base(self) -> RequisiteType {
        match self {
            RequisiteType::OnfailAny | RequisiteType::OnfailAll => RequisiteType::Onfail,
            RequisiteType::RequireAny => RequisiteType::Require,
            RequisiteType::OnchangesAny => RequisiteType::Onchanges,
            RequisiteType::WatchAny => RequisiteType::Watch,
            other => other,
        }
    }
}

/// Is `key` one of Salt's `STATE_REQUISITE_KEYWORDS` (the types plus `onfail_stop`)?
pub fn is_requisite_keyword(key: &str) -> bool {
    key == "onfail_stop" || RequisiteType::ALL.iter().any(|r| r.name() == key)
}
