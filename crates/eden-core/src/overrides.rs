//! What one environment changes of the reference: `--set-env KEY=VALUE` on the target container.

use crate::error::Error;

/// An environment variable set or overridden in the target container, for one environment only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

impl EnvVar {
    /// Parses `KEY=VALUE`; the value may be empty and may hold `=`.
    pub fn parse(arg: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::InvalidEnvVar {
            arg: arg.to_string(),
            why: why.to_string(),
        };
        let (name, value) = arg.split_once('=').ok_or_else(|| invalid("no '='"))?;
        if name.is_empty() {
            return Err(invalid("the name is empty"));
        }
        // ECS passes names to the container as they are; a shell could not read a name with
        // spaces or a leading digit, so such a name is surely a mistake.
        let shell_safe = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !shell_safe {
            return Err(invalid("use letters, digits and '_' in the name"));
        }
        Ok(Self {
            name: name.to_string(),
            value: value.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_the_first_equals_sign() {
        let v = EnvVar::parse("DATABASE_URL=postgres://u:p@h/db?x=1").unwrap();
        assert_eq!(v.name, "DATABASE_URL");
        assert_eq!(v.value, "postgres://u:p@h/db?x=1");
        assert_eq!(EnvVar::parse("FLAG=").unwrap().value, "");
    }

    #[test]
    fn rejects_what_no_container_could_read() {
        for bad in ["FLAG", "=1", "MY FLAG=1", "1FLAG=1", "FLAG-X=1"] {
            let e = EnvVar::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid --set-env {bad:?}")), "{e}");
        }
    }
}
