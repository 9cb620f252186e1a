//! The domain as this process knows it, fetched on first use and kept: the names (ListFields,
//! ListTemplates) on the first event that needs them, the options of a single-select field
//! (ListFieldOptions) and a template's required fields (GetTemplate) on the first event whose plans
//! write that field or create from that template.
//!
//! A field, option or template added or renamed after the cold start is picked up without waiting
//! for a new instance: on a miss, what missed is fetched again, at most once a minute for each
//! thing, so that a stream of events naming something that does not exist costs one call a minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;

use super::catalog::Catalog;
use super::domain::{DomainModel, Missing, Needs};
use super::{ApiError, CasesApi};

/// The shortest time between two fetches of the same thing after a miss.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// When each thing was last fetched again after a miss (pure bookkeeping, no I/O).
#[derive(Debug, Default)]
pub struct Refetches {
    last: HashMap<Missing, Instant>,
}

impl Refetches {
    /// Whether `what` may be fetched again at `now`; if so, the fetch is recorded.
    pub fn allow(&mut self, what: &Missing, now: Instant) -> bool {
        match self.last.get(what) {
            Some(last) if now.saturating_duration_since(*last) < REFETCH_INTERVAL => false,
            _ => {
                self.last.insert(what.clone(), now);
                true
            }
        }
    }
}

/// The per-process cache of the domain.
#[derive(Debug, Default)]
pub struct DomainCache {
    /// None until the names are first listed. Replaced whole on every change, so a reader keeps
    /// a consistent snapshot while another event fetches.
    model: Mutex<Option<Arc<DomainModel>>>,
    /// Held while fetching, so that concurrent events fetch each thing once.
    fetching: tokio::sync::Mutex<Refetches>,
}

impl DomainCache {
    fn snapshot(&self) -> Option<Arc<DomainModel>> {
        self.model.lock().expect("the domain cache is never poisoned").clone()
    }

    fn replace(&self, model: DomainModel) -> Arc<DomainModel> {
        let model = Arc::new(model);
        *self.model.lock().expect("the domain cache is never poisoned") = Some(model.clone());
        model
    }

    /// The model with the names, listed on first use.
    pub async fn names<C: CasesApi>(&self, api: &C) -> Result<Arc<DomainModel>, ApiError> {
        if let Some(model) = self.snapshot() {
            return Ok(model);
        }
        let _fetching = self.fetching.lock().await;
        if let Some(model) = self.snapshot() {
            return Ok(model);
        }
        let catalog = list_names(api).await?;
        Ok(self.replace(DomainModel { catalog, ..DomainModel::default() }))
    }

    /// The model with everything `needs` names, fetching what it does not have yet.
    pub async fn complete<C: CasesApi>(&self, api: &C, needs: &Needs) -> Result<Arc<DomainModel>, ApiError> {
        let current = self.names(api).await?;
        if has(&current, needs) {
            return Ok(current);
        }
        let _fetching = self.fetching.lock().await;
        let current = self.snapshot().unwrap_or(current);
        let options = needs.options.iter().filter(|id| !current.options.contains_key(*id));
        let templates = needs.templates.iter().filter(|id| !current.templates.contains_key(*id));
        let (options, templates) = tokio::try_join!(
            try_join_all(options.map(|id| async move { Ok::<_, ApiError>((id.clone(), api.list_field_options(id).await?)) })),
            try_join_all(templates.map(|id| async move { Ok::<_, ApiError>((id.clone(), api.get_template(id).await?)) })),
        )?;
        let mut model = (*current).clone();
        model.options.extend(options);
        model.templates.extend(templates);
        Ok(self.replace(model))
    }

    /// Fetches `what` again unless it was fetched again less than `REFETCH_INTERVAL` before
    /// `now`: the new model, or None when it is too soon.
    pub async fn refetch<C: CasesApi>(&self, api: &C, what: &Missing, now: Instant) -> Result<Option<Arc<DomainModel>>, ApiError> {
        let current = self.names(api).await?;
        let mut refetches = self.fetching.lock().await;
        if !refetches.allow(what, now) {
            return Ok(None);
        }
        let mut model = (*self.snapshot().unwrap_or(current)).clone();
        match what {
            Missing::Names => model.catalog = list_names(api).await?,
            Missing::Options(id) => {
                model.options.insert(id.clone(), api.list_field_options(id).await?);
            }
            Missing::Template(id) => {
                model.templates.insert(id.clone(), api.get_template(id).await?);
            }
        }
        tracing::info!(refetched = ?what, "fetched part of the domain again after a miss");
        Ok(Some(self.replace(model)))
    }
}

async fn list_names<C: CasesApi>(api: &C) -> Result<Catalog, ApiError> {
    let (fields, templates) = tokio::try_join!(api.list_fields(), api.list_templates())?;
    Ok(Catalog { fields, templates })
}

fn has(model: &DomainModel, needs: &Needs) -> bool {
    needs.options.iter().all(|id| model.options.contains_key(id)) && needs.templates.iter().all(|id| model.templates.contains_key(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thing_is_fetched_again_at_most_once_a_minute() {
        let start = Instant::now();
        let mut refetches = Refetches::default();
        let names = Missing::Names;
        let options = Missing::Options("f-1".into());
        assert!(refetches.allow(&names, start), "the first miss fetches at once");
        assert!(!refetches.allow(&names, start + Duration::from_secs(59)));
        assert!(refetches.allow(&options, start + Duration::from_secs(1)), "other things keep their own minute");
        assert!(!refetches.allow(&Missing::Options("f-1".into()), start + Duration::from_secs(30)));
        assert!(refetches.allow(&Missing::Options("f-2".into()), start + Duration::from_secs(30)));
        assert!(refetches.allow(&names, start + REFETCH_INTERVAL));
        assert!(!refetches.allow(&names, start + REFETCH_INTERVAL + Duration::from_secs(1)), "counted from the last fetch");
    }
}
