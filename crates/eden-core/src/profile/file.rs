//! The INI config file (`~/.eden/config`), read and written the way the original's
//! configparser does: one section per profile, `key = value`.

use std::io::Write;
use std::path::{Path, PathBuf};

use ini::{EscapePolicy, Ini, LineSeparator, ParseOption, WriteOption};

use super::{Key, Profile};
use crate::error::Error;

#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    ini: Ini,
}

impl ConfigFile {
    /// Reads the file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let unreadable = |why: String| Error::ConfigFile {
            path: path.display().to_string(),
            why,
        };
        let ini = match read_config(path) {
            Ok(text) => Ini::load_from_str_opt(
                &text,
                ParseOption {
                    enabled_escape: false,
                    enabled_quote: false,
                    ..ParseOption::default()
                },
            )
            .map_err(|e| {
                unreadable(format!(
                    "line {} is not INI (want \"[profile]\" or \"key = value\")",
                    e.line
                ))
            })?,
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ini::new(),
            Err(ReadError::Io(e)) => return Err(unreadable(e.to_string())),
            Err(ReadError::Refused(why)) => return Err(unreadable(why)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            ini,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn profile_names(&self) -> Vec<String> {
        self.ini
            .sections()
            .flatten()
            .filter(|s| *s != "DEFAULT")
            .map(str::to_string)
            .collect()
    }

    /// The profile's values in any spelling; keys eden does not know are left out.
    pub fn profile(&self, name: &str) -> Option<Profile> {
        let section = self.ini.section(Some(name))?;
        let mut profile = Profile::default();
        for (field, value) in section.iter() {
            if let Some(key) = Key::from_any(&field.to_ascii_lowercase()) {
                profile.set(key, value.trim());
            }
        }
        Some(profile)
    }

    /// Keys in the profile's section that eden does not know (likely typos).
    pub fn unknown_keys(&self, name: &str) -> Vec<String> {
        self.ini
            .section(Some(name))
            .map(|s| {
                s.iter()
                    .filter(|(f, _)| Key::from_any(&f.to_ascii_lowercase()).is_none())
                    .map(|(f, _)| f.to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets a key in place, keeping the spelling the file already uses for it.
    pub fn set(&mut self, profile: &str, key: Key, value: &str) {
        let section = self
            .ini
            .entry(Some(profile.to_string()))
            .or_insert_with(Default::default);
        let existing = section
            .iter()
            .map(|(f, _)| f.to_string())
            .find(|f| Key::from_any(&f.to_ascii_lowercase()) == Some(key));
        let field = existing.unwrap_or_else(|| key.file_name().to_string());
        section.insert(field, value.to_string());
    }

    /// Writes the file atomically, readable by its owner only: it names AWS resources.
    pub fn save(&self) -> Result<(), Error> {
        let unwritable = |e: std::io::Error| Error::ConfigFile {
            path: self.path.display().to_string(),
            why: e.to_string(),
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(unwritable)?;
        }
        let mut text = Vec::new();
        self.ini
            .write_to_opt(
                &mut text,
                WriteOption {
                    escape_policy: EscapePolicy::Nothing,
                    line_separator: LineSeparator::CR,
                    kv_separator: " = ",
                },
            )
            .map_err(unwritable)?;
        let tmp = self.path.with_extension("tmp");
        let mut file = private_file(&tmp).map_err(unwritable)?;
        file.write_all(&text).map_err(unwritable)?;
        file.sync_all().map_err(unwritable)?;
        std::fs::rename(&tmp, &self.path).map_err(unwritable)
    }
}

/// The largest config file eden reads: a real one is a few kilobytes.
const MAX_SIZE: u64 = 1024 * 1024;

enum ReadError {
    Io(std::io::Error),
    /// Not a file eden should read, and why.
    Refused(String),
}

/// The file's text, once it is known to be a regular file of a sane size: a FIFO would block
/// and `/dev/zero` would never end. A file others may write gets a warning, as whoever writes
/// it chooses which AWS resources eden changes.
fn read_config(path: &Path) -> Result<String, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::Refused(
            "it is not a regular file; pass the path of an INI file with -c or EDEN_CONFIG".into(),
        ));
    }
    if meta.len() > MAX_SIZE {
        return Err(ReadError::Refused(format!(
            "it is {} bytes, more than a config file's {MAX_SIZE}; pass the right file with -c",
            meta.len()
        )));
    }
    warn_if_writable_by_others(path, &meta);
    std::fs::read_to_string(path).map_err(ReadError::Io)
}

#[cfg(unix)]
fn warn_if_writable_by_others(path: &Path, meta: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o022 != 0 {
        tracing::warn!(
            "Config file {} is writable by other users, who could point eden at other resources: run `chmod go-w {}`",
            path.display(),
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_writable_by_others(_path: &Path, _meta: &std::fs::Metadata) {}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "[api]
name_prefix = dev-dynamic
reference_service_arn = arn:aws:ecs:ap-northeast-1:123456789012:service/dev/dev01-api
dynamic_zone_name = dev.example.com.
config_bucket_name = servicename-config

[admin]
endpoint_s3_bucket_name = other-config
typo_key = 1
";

    /// A config path in a fresh folder, removed with the returned guard.
    fn temp_path() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        (dir, path)
    }

    #[test]
    fn both_spellings_are_read() {
        let (_dir, path) = temp_path();
        std::fs::write(&path, SEED).unwrap();
        let file = ConfigFile::load(&path).unwrap();
        assert_eq!(file.profile_names(), ["api", "admin"]);
        let api = file.profile("api").unwrap();
        assert_eq!(api.get(Key::DynamicZoneName), Some("dev.example.com."));
        let admin = file.profile("admin").unwrap();
        assert_eq!(admin.get(Key::ConfigBucketName), Some("other-config"));
        assert_eq!(file.unknown_keys("admin"), ["typo_key"]);
        assert!(file.profile("missing").is_none());
    }

    #[test]
    fn setting_keeps_spelling_and_other_sections_and_is_private() {
        let (_dir, path) = temp_path();
        std::fs::write(&path, SEED).unwrap();
        let mut file = ConfigFile::load(&path).unwrap();
        file.set("admin", Key::ConfigBucketName, "renamed");
        file.set("new", Key::TargetCluster, "dev");
        file.save().unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("endpoint_s3_bucket_name = renamed"), "{text}");
        assert!(!text.contains("config_bucket_name = renamed"));
        assert!(text.contains("[new]\ntarget_cluster = dev"));
        assert!(text.contains("name_prefix = dev-dynamic"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_missing_file_is_empty_and_a_broken_one_is_an_error() {
        let file = ConfigFile::load(Path::new("/nonexistent/eden/config")).unwrap();
        assert!(file.profile_names().is_empty());

        let (_dir, path) = temp_path();
        std::fs::write(&path, "[api\nname_prefix = x\n").unwrap();
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("is not INI"), "{err}");
    }

    #[test]
    fn a_path_that_is_not_a_regular_file_or_too_big_is_refused_at_once() {
        let (dir, path) = temp_path();
        let err = ConfigFile::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        #[cfg(unix)]
        {
            let err = ConfigFile::load(Path::new("/dev/zero"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
        std::fs::write(&path, vec![b'#'; MAX_SIZE as usize + 1]).unwrap();
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("more than a config file's"), "{err}");
    }
}
