//! Where a command's profile comes from: the config file's section, with flags over it.

use eden_core::profile::{self, ConfigFile, Settings};
use eden_core::Error;

use crate::args::{Common, ProfileKeys};

/// The settings for `name`: the file's section with the flags applied. A profile the file does
/// not have is fine when the flags give every key.
pub fn settings(common: &Common, name: &str, keys: &ProfileKeys) -> Result<Settings, Error> {
    profile::check_name(name)?;
    let path = common.config_file()?;
    let file = ConfigFile::load(&path)?;
    let overrides = keys.overrides();
    let profile = match file.profile(name) {
        Some(profile) => profile,
        None if !overrides.is_empty() => Default::default(),
        None => {
            return Err(Error::UnknownProfile {
                profile: name.to_string(),
                path: path.display().to_string(),
            })
        }
    };
    profile.with_overrides(&overrides).settings(name)
}
