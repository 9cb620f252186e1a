//! `ClaimStore` over DynamoDB: one item per claim or ledger, conditional writes, TTL on `expiresAt`.
//!
//! The table has a single string partition key `pk` and is billed on demand (the template and
//! `cases-automation claims init` create it from [`TABLE_DEFINITION`]).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb as ddb;
use aws_sdk_dynamodb::client::Waiters as _;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{Claim, ClaimState, ClaimStore, Ledger, LedgerUpdate, RETENTION, StoreError, SweepState, now_ms};
use crate::aws::LazyClient;

/// The table the template declares and `claims init` creates: partition key, TTL attribute.
pub struct TableDefinition {
    pub partition_key: &'static str,
    pub ttl_attribute: &'static str,
}

pub const TABLE_DEFINITION: TableDefinition = TableDefinition { partition_key: "pk", ttl_attribute: "expiresAt" };

const PK: &str = "pk";
const OWNER: &str = "owner";
const STATE: &str = "state";
const ID: &str = "id";
const LEASE_UNTIL: &str = "leaseUntil";
const REQUEST: &str = "request";
const VERSION: &str = "version";
const EXPIRES_AT: &str = "expiresAt";
const LOCK_OWNER: &str = "lockOwner";
const LOCK_UNTIL: &str = "lockUntil";
const WINDOW_START: &str = "windowStart";
const WINDOW_UPDATES: &str = "windowUpdates";
const WATERMARK_PREFIX: &str = "w:";
const CURSOR: &str = "cursor";
const SENT: &str = "sent";
const DONE: &str = "done";

/// The claims table, through the DynamoDB client (built on first use, like the Cases client).
#[derive(Debug)]
pub struct DynamoClaims {
    client: LazyClient<ddb::Client>,
    table: String,
}

impl DynamoClaims {
    /// Builds the client from `config` when the first claim needs it.
    pub fn lazy(config: aws_config::SdkConfig, table: impl Into<String>) -> DynamoClaims {
        DynamoClaims { client: LazyClient::lazy(config, |config| ddb::Client::new(config)), table: table.into() }
    }

    fn client(&self) -> &ddb::Client {
        self.client.get()
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Takes the lock of an item (a case's ledger, a sweep) for `owner` until `lease_until_ms`:
    /// the item as it is then, or None while another owner's lock has not run out.
    async fn lock_item(&self, key: &str, owner: &str, lease_until_ms: i64) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let now = now_ms();
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression("SET #lockOwner = :owner, #lockUntil = :until, #expires = :expires")
            .condition_expression("attribute_not_exists(#lockOwner) OR #lockUntil <= :now OR #lockOwner = :owner")
            .expression_attribute_names("#lockOwner", LOCK_OWNER)
            .expression_attribute_names("#lockUntil", LOCK_UNTIL)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":until", n(lease_until_ms))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":expires", n(now / 1000 + RETENTION.as_secs() as i64))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output.attributes().cloned().unwrap_or_default())),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(store_error("UpdateItem", &e)),
        }
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn store_error<E, R>(operation: &'static str, error: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().unwrap_or_default();
    let throttled = matches!(code, "ProvisionedThroughputExceededException" | "RequestLimitExceeded" | "ThrottlingException");
    let message = match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string(),
    };
    StoreError { operation, throttled, message }
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.code() == Some("ConditionalCheckFailedException")
}

fn claim_item(claim: &Claim) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (PK.to_owned(), s(&claim.key)),
        (OWNER.to_owned(), s(&claim.owner)),
        (VERSION.to_owned(), n(claim.version)),
        (EXPIRES_AT.to_owned(), n(claim.expires_at)),
    ]);
    match &claim.state {
        ClaimState::Pending { lease_until_ms, request } => {
            item.insert(STATE.into(), s("pending"));
            item.insert(LEASE_UNTIL.into(), n(lease_until_ms));
            if let Some(request) = request {
                item.insert(REQUEST.into(), s(request));
            }
        }
        ClaimState::Bound { id } => {
            item.insert(STATE.into(), s("bound"));
            item.insert(ID.into(), s(id));
        }
    }
    item
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// A stored claim; `None` for an item that is not one (a ledger, a damaged item).
fn parse_claim(item: &HashMap<String, AttributeValue>) -> Option<Claim> {
    let state = match text(item, STATE)? {
        "pending" => {
            ClaimState::Pending { lease_until_ms: number(item, LEASE_UNTIL).unwrap_or(0), request: text(item, REQUEST).map(str::to_owned) }
        }
        "bound" => ClaimState::Bound { id: text(item, ID)?.to_owned() },
        _ => return None,
    };
    Some(Claim {
        key: text(item, PK)?.to_owned(),
        owner: text(item, OWNER).unwrap_or_default().to_owned(),
        state,
        version: number(item, VERSION).unwrap_or(0).max(0) as u64,
        expires_at: number(item, EXPIRES_AT).unwrap_or(i64::MAX),
    })
}

fn parse_ledger(item: &HashMap<String, AttributeValue>) -> Ledger {
    Ledger {
        applied: item
            .iter()
            .filter(|(name, _)| name.starts_with(WATERMARK_PREFIX))
            .filter_map(|(name, value)| Some((name.clone(), value.as_n().ok()?.parse().ok()?)))
            .collect(),
        window_start_ms: number(item, WINDOW_START).unwrap_or(0),
        updates_in_window: number(item, WINDOW_UPDATES).unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
    }
}

/// A claim that cannot be read back is treated as held by an unknown owner: waited for, never
/// overwritten blindly.
fn held_or_unreadable(key: &str, item: Option<&HashMap<String, AttributeValue>>) -> Claim {
    item.and_then(parse_claim).unwrap_or_else(|| Claim {
        key: key.to_owned(),
        owner: String::new(),
        state: ClaimState::Pending { lease_until_ms: now_ms() + 1000, request: None },
        version: 0,
        expires_at: i64::MAX,
    })
}

impl ClaimStore for DynamoClaims {
    fn enabled(&self) -> bool {
        true
    }

    async fn put_new(&self, claim: &Claim) -> Result<Option<Claim>, StoreError> {
        let result = self
            .client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(claim_item(claim)))
            // A claim past its retention may still be there (TTL deletes lazily): it counts as absent.
            .condition_expression("attribute_not_exists(#pk) OR #expires <= :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":now", n(now_ms() / 1000))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                let item = match e.err() {
                    ddb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => c.item().cloned(),
                    _ => None,
                };
                match item {
                    Some(item) => Ok(Some(held_or_unreadable(&claim.key, Some(&item)))),
                    // Servers that do not return the item: read it.
                    None => Ok(Some(self.get(&claim.key).await?.unwrap_or_else(|| held_or_unreadable(&claim.key, None)))),
                }
            }
            Err(e) => Err(store_error("PutItem", &e)),
        }
    }

    async fn replace(&self, claim: &Claim) -> Result<Option<Claim>, StoreError> {
        let result = self
            .client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(claim_item(claim)))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(":expected", n(claim.version.saturating_sub(1)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) if is_condition_failure(&e) => {
                Ok(Some(self.get(&claim.key).await?.unwrap_or_else(|| held_or_unreadable(&claim.key, None))))
            }
            Err(e) => Err(store_error("PutItem", &e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Claim>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", &e))?;
        Ok(output.item().map(|item| held_or_unreadable(key, Some(item))))
    }

    async fn bind(&self, key: &str, owner: &str, id: &str, alias: Option<&str>) -> Result<bool, StoreError> {
        use ddb::types::{Put, TransactWriteItem, Update};
        let names = HashMap::from([
            ("#state".to_owned(), STATE.to_owned()),
            ("#id".to_owned(), ID.to_owned()),
            ("#version".to_owned(), VERSION.to_owned()),
            ("#lease".to_owned(), LEASE_UNTIL.to_owned()),
            ("#request".to_owned(), REQUEST.to_owned()),
            ("#owner".to_owned(), OWNER.to_owned()),
        ]);
        let values = HashMap::from([
            (":bound".to_owned(), s("bound")),
            (":pending".to_owned(), s("pending")),
            (":id".to_owned(), s(id)),
            (":owner".to_owned(), s(owner)),
            (":one".to_owned(), n(1)),
        ]);
        const SET: &str = "SET #state = :bound, #id = :id, #version = #version + :one REMOVE #lease, #request";
        const CONDITION: &str = "(#owner = :owner AND #state = :pending) OR (#state = :bound AND #id = :id)";
        let Some(alias) = alias else {
            let result = self
                .client()
                .update_item()
                .table_name(&self.table)
                .key(PK, s(key))
                .update_expression(SET)
                .condition_expression(CONDITION)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .send()
                .await;
            return match result {
                Ok(_) => Ok(true),
                Err(e) if is_condition_failure(&e) => Ok(false),
                Err(e) => Err(store_error("UpdateItem", &e)),
            };
        };
        // The claim and its alias in one write: a retry finds the case by either.
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError {
            operation: "TransactWriteItems",
            throttled: false,
            message: e.to_string(),
        };
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression(SET)
            .condition_expression(CONDITION)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(build)?;
        let alias_claim = Claim {
            key: alias.to_owned(),
            owner: owner.to_owned(),
            state: ClaimState::Bound { id: id.to_owned() },
            version: 1,
            expires_at: now_ms() / 1000 + RETENTION.as_secs() as i64,
        };
        let put = Put::builder().table_name(&self.table).set_item(Some(claim_item(&alias_claim))).build().map_err(build)?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_transaction_canceled_exception() => {
                let reasons = match e.err() {
                    ddb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                        c.cancellation_reasons().iter().map(|r| r.code().unwrap_or_default().to_owned()).collect::<Vec<_>>()
                    }
                    _ => vec![],
                };
                if reasons.first().map(String::as_str) == Some("ConditionalCheckFailed") {
                    Ok(false)
                } else {
                    let throttled = reasons.iter().any(|r| r.contains("Throttl") || r.contains("Throughput"));
                    Err(StoreError { operation: "TransactWriteItems", throttled, message: format!("transaction cancelled: {reasons:?}") })
                }
            }
            Err(e) => Err(store_error("TransactWriteItems", &e)),
        }
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client()
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .condition_expression("#owner = :owner AND #state = :pending")
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(store_error("DeleteItem", &e)),
        }
    }

    async fn abandon(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression("SET #lease = :ended")
            .condition_expression("#owner = :owner AND #state = :pending")
            .expression_attribute_names("#lease", LEASE_UNTIL)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":ended", n(0))
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(store_error("UpdateItem", &e)),
        }
    }

    async fn lock_ledger(&self, key: &str, owner: &str, lease_until_ms: i64) -> Result<Option<Ledger>, StoreError> {
        Ok(self.lock_item(key, owner, lease_until_ms).await?.map(|item| parse_ledger(&item)))
    }

    async fn lock_sweep(&self, key: &str, owner: &str, lease_until_ms: i64) -> Result<Option<SweepState>, StoreError> {
        // The same lock as a ledger's, on an item of its own.
        Ok(self.lock_item(key, owner, lease_until_ms).await?.map(|item| parse_sweep(&item)))
    }

    async fn save_sweep(&self, key: &str, owner: &str, state: &SweepState, lease_until_ms: i64) -> Result<bool, StoreError> {
        let mut request = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .condition_expression("#lockOwner = :owner")
            .expression_attribute_names("#lockOwner", LOCK_OWNER)
            .expression_attribute_names("#lockUntil", LOCK_UNTIL)
            .expression_attribute_names("#sent", SENT)
            .expression_attribute_names("#done", DONE)
            .expression_attribute_names("#cursor", CURSOR)
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":sent", n(state.sent))
            .expression_attribute_values(":done", AttributeValue::Bool(state.done));
        let mut set = vec!["#sent = :sent", "#done = :done"];
        let mut remove = vec![];
        match &state.cursor {
            Some(cursor) => {
                request = request.expression_attribute_values(":cursor", s(cursor));
                set.push("#cursor = :cursor");
            }
            None => remove.push("#cursor"),
        }
        if lease_until_ms > 0 {
            request = request.expression_attribute_values(":until", n(lease_until_ms));
            set.push("#lockUntil = :until");
        } else {
            remove.extend(["#lockOwner", "#lockUntil"]);
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        match request.update_expression(expression).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(store_error("UpdateItem", &e)),
        }
    }

    async fn unlock_ledger(&self, key: &str, owner: &str, update: &LedgerUpdate) -> Result<(), StoreError> {
        let mut request = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .condition_expression("#lockOwner = :owner")
            .expression_attribute_names("#lockOwner", LOCK_OWNER)
            .expression_attribute_names("#lockUntil", LOCK_UNTIL)
            .expression_attribute_names("#windowStart", WINDOW_START)
            .expression_attribute_names("#windowUpdates", WINDOW_UPDATES)
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":windowStart", n(update.window_start_ms))
            .expression_attribute_values(":windowUpdates", n(update.updates_in_window));
        let mut set = vec!["#windowStart = :windowStart".to_owned(), "#windowUpdates = :windowUpdates".to_owned()];
        for (i, (name, time)) in update.applied.iter().enumerate() {
            request = request.expression_attribute_names(format!("#w{i}"), name).expression_attribute_values(format!(":w{i}"), n(time));
            set.push(format!("#w{i} = :w{i}"));
        }
        let result = request.update_expression(format!("SET {} REMOVE #lockOwner, #lockUntil", set.join(", "))).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => {
                // The lock ran out while the case was being updated and someone else holds it now:
                // the update is done; only its watermark is lost.
                tracing::warn!(ledger = %key, "the case's ledger lock expired during an update");
                Ok(())
            }
            Err(e) => Err(store_error("UpdateItem", &e)),
        }
    }
}

fn parse_sweep(item: &HashMap<String, AttributeValue>) -> SweepState {
    SweepState {
        cursor: text(item, CURSOR).map(str::to_owned),
        sent: number(item, SENT).unwrap_or(0).max(0) as u64,
        done: item.get(DONE).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
    }
}

/// Creates the claims table with the template's definition (on-demand, TTL on `expiresAt`,
/// encrypted), for local use and tests. Idempotent: an existing table with the same key is kept.
pub async fn create_table(client: &ddb::Client, table: &str) -> Result<(), String> {
    use ddb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, SseSpecification, TimeToLiveSpecification,
    };
    let def = &TABLE_DEFINITION;
    let created = client
        .create_table()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(def.partition_key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .key_schema(
            KeySchemaElement::builder().attribute_name(def.partition_key).key_type(KeyType::Hash).build().map_err(|e| e.to_string())?,
        )
        .billing_mode(BillingMode::PayPerRequest)
        .sse_specification(SseSpecification::builder().enabled(true).build())
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => {
            let described =
                client.describe_table().table_name(table).send().await.map_err(|e| store_error("DescribeTable", &e).to_string())?;
            let key: Vec<&str> = described.table().map(|t| t.key_schema().iter().map(|k| k.attribute_name()).collect()).unwrap_or_default();
            if key != [def.partition_key] {
                return Err(format!(
                    "table {table} exists with the key {key:?}; the claims table needs the single partition key `{}`",
                    def.partition_key
                ));
            }
        }
        Err(e) => return Err(store_error("CreateTable", &e).to_string()),
    }
    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(Duration::from_secs(120))
        .await
        .map_err(|e| format!("table {table} did not become active: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
    let ttl =
        client.describe_time_to_live().table_name(table).send().await.map_err(|e| store_error("DescribeTimeToLive", &e).to_string())?;
    let enabled = ttl.time_to_live_description().and_then(|d| d.attribute_name()) == Some(def.ttl_attribute);
    if !enabled {
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().enabled(true).attribute_name(def.ttl_attribute).build().map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map_err(|e| store_error("UpdateTimeToLive", &e).to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_round_trip_through_items() {
        let pending = Claim::pending("case#1", "token", Some("{\"templateId\":\"t\"}".into()), 1_800_000_000_000);
        assert_eq!(parse_claim(&claim_item(&pending)), Some(pending.clone()));
        let bound = Claim { state: ClaimState::Bound { id: "c-1".into() }, version: 2, ..pending };
        assert_eq!(parse_claim(&claim_item(&bound)), Some(bound));
    }

    #[test]
    fn an_unreadable_claim_is_waited_for() {
        let item = HashMap::from([(PK.to_owned(), s("case#1")), (STATE.to_owned(), s("surprise"))]);
        let held = held_or_unreadable("case#1", Some(&item));
        assert!(matches!(held.state, ClaimState::Pending { request: None, .. }));
        assert_eq!(held.version, 0, "never matches a conditional replace of a real claim");
    }

    #[test]
    fn ledgers_read_their_watermarks_and_budget() {
        let item = HashMap::from([
            (PK.to_owned(), s("ledger#1")),
            ("w:1:r:priority".to_owned(), n(5)),
            (WINDOW_START.to_owned(), n(100)),
            (WINDOW_UPDATES.to_owned(), n(3)),
            (LOCK_OWNER.to_owned(), s("me")),
        ]);
        let ledger = parse_ledger(&item);
        assert_eq!(ledger.applied.get("w:1:r:priority"), Some(&5));
        assert_eq!((ledger.window_start_ms, ledger.updates_in_window), (100, 3));
        assert_eq!(ledger.applied.len(), 1);
    }
}
