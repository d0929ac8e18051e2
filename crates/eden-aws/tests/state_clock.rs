//! The state table's clock is the one DynamoDB's answers give, whatever this machine's says: an
//! environment's expiry is written and compared by it (see `eden_aws`'s clock.rs).

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_smithy_mocks::{mock, mock_client};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::date_time::{DateTime, Format};
use eden_aws::DynamoDb;
use eden_core::cloud::StateTable;

fn this_machines_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(since.unwrap().as_secs()).unwrap()
}

#[tokio::test]
async fn the_state_tables_clock_is_the_date_of_its_latest_answer() {
    // DynamoDB answers two hours ahead of this machine.
    let ahead = 2 * 3600;
    let answer = mock!(aws_sdk_dynamodb::Client::get_item).then_http_response(move || {
        let date = DateTime::from_secs(this_machines_now() + ahead);
        let mut response = HttpResponse::new(200.try_into().unwrap(), SdkBody::from("{}"));
        let date = date.fmt(Format::HttpDate).unwrap();
        response.headers_mut().insert("date", date);
        response
    });
    let table = DynamoDb::new(mock_client!(aws_sdk_dynamodb, [&answer]));

    let before = table.now() - this_machines_now();
    assert!(
        before.abs() <= 1,
        "before any answer, this machine's clock: {before}"
    );
    assert_eq!(
        table.environment("eden", "api", "pr-1").await.unwrap(),
        None
    );
    let after = table.now() - this_machines_now();
    assert!((after - ahead).abs() <= 1, "{after} s ahead, not {ahead}");
}
