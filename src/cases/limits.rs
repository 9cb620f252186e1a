//! The Cases API's limits, in one place, each named after what it bounds. They come from the
//! Smithy model (`docs/reference/connectcases-2022-10-03.json`); the test below reads them back
//! from it, so a new model that moves one fails here first.

/// `CommentBody`: a comment has 1 to this many characters.
pub const COMMENT_BODY: usize = 15_000;
/// `FieldValueUnion.stringValue`: a text field's value has at most this many characters.
pub const FIELD_STRING_VALUE: usize = 4_100;
/// The `summary` system field takes fewer characters than other text fields (a rule of the
/// service, not of the model).
pub const SUMMARY_VALUE: usize = 3_000;
/// `CaseId`, `ContactArn`, `FileArn`, `RelatedItemId`, `SlaName`, `CustomEntity`: 1 to this many
/// characters.
pub const IDENTIFIER: usize = 500;
/// `CreateCaseRequest.fields`, `UpdateCaseRequest.fields`: at most this many fields a write.
pub const FIELDS_PER_WRITE: usize = 220;
/// `CustomInputContent.fields`: a custom related item has 1 to this many fields.
pub const CUSTOM_ITEM_FIELDS: usize = 50;
/// `MutableTags`: at most this many tags on a case.
pub const TAGS: usize = 50;
/// `MutableTagKey`: 1 to this many characters.
pub const TAG_KEY: usize = 128;
/// `TagValueString`: at most this many characters.
pub const TAG_VALUE: usize = 256;
/// `SearchCasesRequest.maxResults`: at most this many cases a page.
pub const SEARCH_CASES_PAGE: i32 = 100;
/// `SearchRelatedItemsRequest.maxResults`, `SearchAllRelatedItemsRequest.maxResults`.
pub const RELATED_ITEMS_PAGE: i32 = 25;
/// `MaxResults` of ListFields, ListTemplates and ListFieldOptions.
pub const LIST_PAGE: i32 = 100;

/// Customer Profiles' `SearchProfiles`: a key name and each value have 1 to this many characters
/// (a limit of that service, whose model is not vendored here).
pub const PROFILE_SEARCH_TEXT: usize = 255;

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn model() -> Value {
        serde_json::from_str(include_str!("../../docs/reference/connectcases-2022-10-03.json")).unwrap()
    }

    /// The `length` or `range` maximum of a shape, or of a member of a structure.
    fn maximum(model: &Value, shape: &str, member: Option<&str>) -> i64 {
        let shapes = &model["shapes"];
        let shape = &shapes[format!("com.amazonaws.connectcases#{shape}")];
        let traits = match member {
            Some(member) => {
                let member = &shape["members"][member];
                let own = &member["traits"];
                if own.get("smithy.api#length").is_some() || own.get("smithy.api#range").is_some() {
                    own.clone()
                } else {
                    shapes[member["target"].as_str().unwrap()]["traits"].clone()
                }
            }
            None => shape["traits"].clone(),
        };
        traits
            .get("smithy.api#length")
            .or_else(|| traits.get("smithy.api#range"))
            .and_then(|bounds| bounds["max"].as_i64())
            .unwrap_or_else(|| panic!("no maximum for {shape} {member:?}"))
    }

    #[test]
    fn every_limit_is_the_models() {
        let model = model();
        let expected: &[(i64, &str, Option<&str>)] = &[
            (COMMENT_BODY as i64, "CommentBody", None),
            (FIELD_STRING_VALUE as i64, "FieldValueUnion", Some("stringValue")),
            (IDENTIFIER as i64, "CaseId", None),
            (IDENTIFIER as i64, "ContactArn", None),
            (IDENTIFIER as i64, "FileArn", None),
            (IDENTIFIER as i64, "RelatedItemId", None),
            (IDENTIFIER as i64, "SlaName", None),
            (IDENTIFIER as i64, "CustomEntity", None),
            (FIELDS_PER_WRITE as i64, "CreateCaseRequest", Some("fields")),
            (FIELDS_PER_WRITE as i64, "UpdateCaseRequest", Some("fields")),
            (CUSTOM_ITEM_FIELDS as i64, "CustomInputContent", Some("fields")),
            (TAGS as i64, "MutableTags", None),
            (TAG_KEY as i64, "MutableTagKey", None),
            (TAG_VALUE as i64, "TagValueString", None),
            (SEARCH_CASES_PAGE as i64, "SearchCasesRequest", Some("maxResults")),
            (RELATED_ITEMS_PAGE as i64, "SearchRelatedItemsRequest", Some("maxResults")),
            (RELATED_ITEMS_PAGE as i64, "SearchAllRelatedItemsRequest", Some("maxResults")),
            (LIST_PAGE as i64, "ListFieldsRequest", Some("maxResults")),
            (LIST_PAGE as i64, "ListTemplatesRequest", Some("maxResults")),
            (LIST_PAGE as i64, "ListFieldOptionsRequest", Some("maxResults")),
        ];
        for (limit, shape, member) in expected {
            assert_eq!(*limit, maximum(&model, shape, *member), "{shape} {member:?}");
        }
    }
}
