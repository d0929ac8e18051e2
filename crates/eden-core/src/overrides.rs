//! What one environment changes of the reference: `--set-env KEY=VALUE` on the target container.

use crate::error::Error;

/// An environment variable set or overridden in the target container, for one environment only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

/// How many bytes of names and values `--set-env` may add: ECS takes a task definition of at
/// most 64 KiB, and the reference's own definition needs the rest.
const MAX_TOTAL: usize = 32 * 1024;

impl EnvVar {
    /// Parses every `--set-env`, and refuses them together when they would not fit in a task
    /// definition.
    pub fn parse_all(args: &[String]) -> Result<Vec<Self>, Error> {
        let vars: Vec<Self> = args
            .iter()
            .map(|arg| Self::parse(arg))
            .collect::<Result<_, _>>()?;
        let total: usize = vars.iter().map(|v| v.name.len() + v.value.len()).sum();
        if total > MAX_TOTAL {
            return Err(Error::InvalidEnvVar {
                arg: format!("{} variables", vars.len()),
                why: format!(
                    "they add {total} bytes, more than the {MAX_TOTAL} a task definition has room for"
                ),
            });
        }
        Ok(vars)
    }

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
    fn together_they_must_fit_in_a_task_definition() {
        let big = format!("BIG={}", "x".repeat(20_000));
        assert_eq!(
            EnvVar::parse_all(std::slice::from_ref(&big)).unwrap().len(),
            1
        );
        let e = EnvVar::parse_all(&[big.clone(), big])
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than the 32768"), "{e}");
    }

    #[test]
    fn rejects_what_no_container_could_read() {
        for bad in ["FLAG", "=1", "MY FLAG=1", "1FLAG=1", "FLAG-X=1"] {
            let e = EnvVar::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid --set-env {bad:?}")), "{e}");
        }
    }
}
