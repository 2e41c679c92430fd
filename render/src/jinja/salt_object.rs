//! The `salt` template global (`salt['pillar.get']('a:b')`, `salt.pillar.get('a:b')`) and
//! the `raise('msg')` global, plus the error payloads they attach to minijinja errors so
//! that the error formatter can word them as Salt does.

use halite_core::{Functions, Map, Value};
use minijinja::value::{Kwargs, Object, ObjectRepr, Value as JValue};
use minijinja::{Error as JError, ErrorKind, State};
use std::fmt;
use std::sync::Arc;

use super::convert::{from_jinja, merge_in_place, to_jinja};

/// `salt['defaults.merge'](dest, src, merge_lists=False, in_place=True)`: Salt merges into
/// `dest` itself, so it is done here on the template's own dict rather than on a copy.
fn defaults_merge(raw: &[JValue], positional: &[Value], kwargs: &Map) -> Result<JValue, JError> {
    let get = |i: usize, k: &str| positional.get(i).or_else(|| kwargs.get(k));
    let src = match get(1, "src") {
        None | Some(Value::Null) => Value::Map(Map::default()),
        Some(v) => v.clone(),
    };
    let merge_lists = get(2, "merge_lists").is_some_and(Value::is_truthy);
    let in_place = get(3, "in_place").is_none_or(Value::is_truthy);
    let dest_raw = raw.first().filter(|v| !v.is_kwargs()).cloned();
    if in_place {
        let Some(dest) = dest_raw.filter(|d| !d.is_none()) else {
            return Err(SaltFault::FunctionFailed(
                "Can't perform in-place merge into NoneType".into(),
            )
            .into_error());
        };
        if merge_in_place(&dest, &src, merge_lists) {
            return Ok(dest);
        }
        return Err(SaltFault::FunctionFailed(format!(
            "defaults.merge: cannot merge into {}",
            from_jinja(&dest).type_name()
        ))
        .into_error());
    }
    let copy = to_jinja(&match get(0, "dest") {
        None | Some(Value::Null) => Value::Map(Map::default()),
        Some(v) => v.clone(),
    });
    merge_in_place(&copy, &src, merge_lists);
    Ok(copy)
}

/// Why a render was aborted by Salt's layer (attached as the source of a minijinja error).
#[derive(Debug, Clone)]
pub enum SaltFault {
    /// `raise('msg')` in a template.
    Raise(String),
    /// An execution function failed (Salt's `CommandExecutionError` / `SaltInvocationError`).
    FunctionFailed(String),
    /// Any other error of an execution function (e.g. not available).
    Other(String),
}

impl fmt::Display for SaltFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaltFault::Raise(m) | SaltFault::FunctionFailed(m) | SaltFault::Other(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for SaltFault {}

impl SaltFault {
    /// A minijinja error carrying this fault.
    pub fn into_error(self) -> JError {
        JError::new(ErrorKind::InvalidOperation, self.to_string()).with_source(self)
    }
}

/// The `raise` global: abort the render with `msg`.
pub fn raise(msg: JValue) -> Result<JValue, JError> {
    Err(SaltFault::Raise(super::pyrepr::py_str(&msg)).into_error())
}

/// The `salt` global: execution functions by name.
#[derive(Clone)]
pub struct SaltObject {
    functions: Arc<dyn Functions>,
}

impl fmt::Debug for SaltObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SaltObject")
    }
}

impl SaltObject {
    /// The `salt` object over a function registry.
    pub fn new_value(functions: Arc<dyn Functions>) -> JValue {
        JValue::from_object(SaltObject { functions })
    }
}

impl Object for SaltObject {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        let name = key.as_str()?;
        let prefix = if name.contains('.') {
            None
        } else {
            Some(name.to_string())
        };
        Some(JValue::from_object(FunctionRef {
            functions: self.functions.clone(),
            name: name.to_string(),
            module_only: prefix.is_some(),
        }))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<salt.loader.LazyLoader object>")
    }
}

/// `salt['mod.fun']` (callable) or `salt.mod` (a module: `salt.mod.fun` is callable).
struct FunctionRef {
    functions: Arc<dyn Functions>,
    name: String,
    module_only: bool,
}

impl fmt::Debug for FunctionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FunctionRef({})", self.name)
    }
}

/// Positional and keyword arguments of a call, as Halite values.
fn split_args(args: &[JValue]) -> Result<(Vec<Value>, Map), JError> {
    let mut positional = Vec::with_capacity(args.len());
    let mut kwargs = Map::default();
    for arg in args {
        if arg.is_kwargs() {
            let kw = Kwargs::try_from(arg.clone())?;
            for name in kw.args() {
                let v: JValue = kw.peek(name)?;
                kwargs.insert(Value::from(name), from_jinja(&v));
            }
        } else {
            positional.push(from_jinja(arg));
        }
    }
    Ok((positional, kwargs))
}

impl Object for FunctionRef {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        if !self.module_only {
            return None;
        }
        let fun = key.as_str()?;
        Some(JValue::from_object(FunctionRef {
            functions: self.functions.clone(),
            name: format!("{}.{}", self.name, fun),
            module_only: false,
        }))
    }

    fn call(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        args: &[JValue],
    ) -> Result<JValue, JError> {
        let (positional, kwargs) = split_args(args)?;
        if self.name == "defaults.merge" {
            return defaults_merge(args, &positional, &kwargs);
        }
        match self.functions.call(&self.name, &positional, &kwargs) {
            Ok(v) => Ok(to_jinja(&v)),
            Err(halite_core::Error::CommandExecution(m))
            | Err(halite_core::Error::InvalidArgument(m)) => {
                Err(SaltFault::FunctionFailed(m).into_error())
            }
            Err(e) => Err(SaltFault::Other(e.to_string()).into_error()),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<function {}>", self.name)
    }
}
