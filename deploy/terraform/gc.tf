# The gc schedule: an EventBridge rule calls POST /api/v1/gc like any client, with the API key.
# EventBridge waits 5 s for an answer; the function finishes its sweep regardless, and a retried
# call finds the work done.

locals {
  gc = var.gc_schedule != "" ? 1 : 0
}

resource "aws_cloudwatch_event_connection" "gc" {
  count              = local.gc
  name               = "${var.name}-gc"
  authorization_type = "API_KEY"
  auth_parameters {
    api_key {
      key   = "x-api-key"
      value = random_password.api_key.result
    }
  }
}

resource "aws_cloudwatch_event_api_destination" "gc" {
  count                            = local.gc
  name                             = "${var.name}-gc"
  connection_arn                   = aws_cloudwatch_event_connection.gc[0].arn
  invocation_endpoint              = "${aws_api_gateway_stage.api.invoke_url}/api/v1/gc"
  http_method                      = "POST"
  invocation_rate_limit_per_second = 1
}

resource "aws_iam_role" "gc" {
  count = local.gc
  name  = "${var.name}-gc"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "events.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "gc" {
  count = local.gc
  name  = "invoke-gc"
  role  = aws_iam_role.gc[0].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "events:InvokeApiDestination", Resource = aws_cloudwatch_event_api_destination.gc[0].arn }]
  })
}

resource "aws_cloudwatch_event_rule" "gc" {
  count               = local.gc
  name                = "${var.name}-gc"
  schedule_expression = var.gc_schedule
}

resource "aws_cloudwatch_event_target" "gc" {
  count    = local.gc
  rule     = aws_cloudwatch_event_rule.gc[0].name
  arn      = aws_cloudwatch_event_api_destination.gc[0].arn
  role_arn = aws_iam_role.gc[0].arn
  input    = jsonencode({ orphans = false })
}
