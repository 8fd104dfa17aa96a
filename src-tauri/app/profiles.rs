//! The profiles dialog's commands: thin wrappers over [`crate::profiles`], the same library the
//! `pulseboard profile` command uses. Passwords go from the dialog straight to the keychain.

use std::sync::Arc;

use serde::Serialize;
use tauri::State;

use super::Shared;
use crate::profiles::{self, cli::TEST_TIMEOUT, Profile, ProfileView, Profiles, Sensitive};

/// What the dialog lists: every profile, the active one, and the one the engine runs on now.
#[derive(Debug, Serialize)]
pub struct ProfilesView {
    profiles: Vec<ProfileView>,
    running: String,
}

fn open() -> Result<Profiles, String> {
    profiles::config_dir(None)
        .and_then(Profiles::load)
        .map_err(|e| e.to_string())
}

fn listing(shared: &Shared) -> Result<ProfilesView, String> {
    Ok(ProfilesView {
        profiles: open()?.list(),
        running: shared.engine().config.profile.clone(),
    })
}

#[tauri::command]
pub async fn profiles(shared: State<'_, Arc<Shared>>) -> Result<ProfilesView, String> {
    listing(&shared)
}

/// Adds or edits a profile. An empty password keeps the one the keychain holds for it.
#[tauri::command]
pub async fn save_profile(
    profile: Profile,
    password: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<ProfilesView, String> {
    let name = profile.name.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let mut profiles = open()?;
        let password = match password.is_empty() {
            false => Some(Sensitive::from(password)),
            true => keep_password(&profiles, &name),
        };
        profiles.add(profile, password).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    listing(&shared)
}

/// The password the keychain holds for `name`, when editing an existing profile.
fn keep_password(profiles: &Profiles, name: &str) -> Option<Sensitive<String>> {
    match profiles.store_for(name) {
        Ok(profiles::ActiveStore::Server { password, .. }) => password,
        _ => None,
    }
}

#[tauri::command]
pub async fn delete_profile(
    name: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<ProfilesView, String> {
    if name == shared.engine().config.profile {
        return Err(format!("{name} is in use: switch to another profile first"));
    }
    tauri::async_runtime::spawn_blocking(move || open()?.remove(&name).map_err(|e| e.to_string()))
        .await
        .map_err(|e| e.to_string())??;
    listing(&shared)
}

#[tauri::command]
pub async fn test_profile(name: String) -> Result<String, String> {
    let (name, store) = tauri::async_runtime::spawn_blocking(move || {
        let store = open()?.store_for(&name).map_err(|e| e.to_string())?;
        Ok::<_, String>((name, store))
    })
    .await
    .map_err(|e| e.to_string())??;
    profiles::test_connection(&name, &store, TEST_TIMEOUT).await
}

/// Makes `name` the active profile and moves the engine to its store. The server is checked
/// first, so a profile that cannot connect leaves the running engine untouched.
#[tauri::command]
pub async fn use_profile(
    name: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<ProfilesView, String> {
    test_profile(name.clone()).await?;
    let previous = shared.engine().config.profile.clone();
    set_active(name.clone()).await?;
    if let Err(error) = shared.switch_profile(&name).await {
        set_active(previous).await?;
        return Err(error);
    }
    listing(&shared)
}

async fn set_active(name: String) -> Result<(), String> {
    tauri::async_runtime::spawn_blocking(move || {
        open()?.set_active(&name).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}
