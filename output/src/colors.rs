//! Salt's terminal colours (`salt.utils.color.get_colors`): the exact ANSI sequences,
//! or empty strings when colour is off.

/// The colours the outputters use, each an ANSI SGR sequence (or `""`).
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    /// `RED`: failed states, error listings.
    pub red: &'static str,
    /// `LIGHT_RED`: compile errors, warnings.
    pub light_red: &'static str,
    /// `GREEN`: successful, unchanged states and strings.
    pub green: &'static str,
    /// `LIGHT_YELLOW`: `None` results and scalars in nested output.
    pub light_yellow: &'static str,
    /// `YELLOW`: undecodable data in nested output.
    pub yellow: &'static str,
    /// `CYAN`: changed states, keys, the summary.
    pub cyan: &'static str,
    /// `ENDC`: the reset sequence.
    pub endc: &'static str,
}

/// Salt's palette with colour on.
const COLORED: Palette = Palette {
    red: "\x1b[0;31m",
    light_red: "\x1b[0;1;31m",
    green: "\x1b[0;32m",
    light_yellow: "\x1b[0;1;33m",
    yellow: "\x1b[0;33m",
    cyan: "\x1b[0;36m",
    endc: "\x1b[0;0m",
};

/// Every colour empty (`--no-color`).
const PLAIN: Palette = Palette {
    red: "",
    light_red: "",
    green: "",
    light_yellow: "",
    yellow: "",
    cyan: "",
    endc: "",
};

impl Palette {
    /// Salt's colours when `color` is true, empty strings otherwise.
    pub fn new(color: bool) -> Palette {
        if color {
            COLORED
        } else {
            PLAIN
        }
    }
}

/// Salt's `strip_esc_sequence`: every ESC becomes `?`, so data cannot drive the terminal.
pub fn strip_esc(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\x1b') {
        std::borrow::Cow::Owned(s.replace('\x1b', "?"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palettes() {
        assert_eq!(Palette::new(true).cyan, "\x1b[0;36m");
        assert_eq!(Palette::new(false).cyan, "");
        assert_eq!(strip_esc("a\x1b[31mb"), "a?[31mb");
    }
}
