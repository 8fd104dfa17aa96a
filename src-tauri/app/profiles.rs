//! The profiles dialog's commands: one-line calls into [`crate::storage::profiles`] and
//! [`crate::engine::instance`], the same library the `pulseboard profile` command uses.

use std::sync::Arc;

use serde::Serialize;
use tauri::State;

use super::{CommandError, Shared};
use crate::engine::instance;
use crate::storage::profiles::{self, Password, Profile, ProfileView};

/// What the dialog lists: every profile, the active one, and the one the engine runs on now.
#[derive(Debug, Serialize)]
pub struct ProfilesView {
    profiles: Vec<ProfileView>,
    running: String,
}

async fn listing(shared: &Shared) -> Result<ProfilesView, CommandError> {
    let profiles = blocking(|| profiles::open().map(|p| p.list())).await?;
    Ok(ProfilesView {
        profiles,
        running: shared.instance.engine().config.profile.clone(),
    })
}

#[tauri::command]
pub async fn profiles(shared: State<'_, Arc<Shared>>) -> Result<ProfilesView, CommandError> {
    listing(&shared).await
}

/// Adds or edits a profile. An empty password keeps the one the keychain holds ([`Password`]).
#[tauri::command]
pub async fn save_profile(
    profile: Profile,
    password: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<ProfilesView, CommandError> {
    blocking(move || profiles::open()?.add(profile, Password::from_field(password))).await?;
    listing(&shared).await
}

#[tauri::command]
pub async fn delete_profile(
    name: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<ProfilesView, CommandError> {
    shared.instance.check_not_running(&name)?;
    blocking(move || profiles::open()?.remove(&name)).await?;
    listing(&shared).await
}

#[tauri::command]
pub async fn test_profile(name: String) -> Result<String, CommandError> {
    Ok(instance::test_profile(&name).await?)
}

/// Makes `name` the active profile and moves the engine to its store (checked first, rolled
/// back on failure: [`instance::Instance::switch_profile`]).
#[tauri::command]
pub async fn use_profile(
    name: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<ProfilesView, CommandError> {
    shared.instance.switch_profile(&name).await?;
    shared.viewer.forget();
    listing(&shared).await
}

/// Keychain calls (D-Bus round trips) and file writes block: keep them off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, profiles::ProfileError> + Send + 'static,
) -> Result<T, CommandError> {
    Ok(tauri::async_runtime::spawn_blocking(f)
        .await
        .expect("a profiles call panicked")?)
}
