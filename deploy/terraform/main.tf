# eden API on AWS Lambda behind API Gateway (REST, with an API key and a usage plan), as the
# seed's module, with eden's Rust function and a least-privilege role.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.0"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

# The state table is made by `eden config push`, as in the seed: read it, never replace it.
data "aws_dynamodb_table" "state" {
  name = var.table_name
}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  arn       = "arn:${local.partition}"
  package   = var.lambda_package_url != "" ? "${path.module}/eden-downloaded.zip" : var.lambda_package_path
}

resource "terraform_data" "package" {
  count = var.lambda_package_url != "" ? 1 : 0
  input = var.lambda_package_url
  provisioner "local-exec" {
    command = "curl -fsSL -o '${path.module}/eden-downloaded.zip' '${var.lambda_package_url}'"
  }
}

resource "random_password" "api_key" {
  length  = 40
  special = false
}

resource "aws_iam_role" "function" {
  name = "${var.name}-function"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.function.name
  policy_arn = "${local.arn}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

# The statements of `eden iam-policy`, for every profile sharing name_prefix.
resource "aws_iam_role_policy" "eden" {
  name = "eden"
  role = aws_iam_role.function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "ReadServices", Effect = "Allow", Action = ["ecs:DescribeServices"],
      Resource = "${local.arn}:ecs:${local.region}:${local.account}:service/*/*" },
      { Sid = "ReadOwnershipTags", Effect = "Allow", Action = ["ecs:ListTagsForResource"],
        Resource = [
          "${local.arn}:ecs:${local.region}:${local.account}:service/*/*",
          "${local.arn}:ecs:${local.region}:${local.account}:task-definition/*:*",
      ] },
      { Sid = "TaskDefinitions", Effect = "Allow",
        Action   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:ListTaskDefinitions", "ecs:DeregisterTaskDefinition"],
      Resource = "*" },
      { Sid = "TagOnCreate", Effect = "Allow", Action = ["ecs:TagResource"],
        Resource = [
          "${local.arn}:ecs:${local.region}:${local.account}:task-definition/${var.name_prefix}-*:*",
          "${local.arn}:ecs:${local.region}:${local.account}:service/*/${var.name_prefix}-*",
        ],
      Condition = { StringEquals = { "ecs:CreateAction" = ["RegisterTaskDefinition", "CreateService"] } } },
      { Sid = "EnvironmentServices", Effect = "Allow", Action = ["ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:TagResource"],
      Resource = "${local.arn}:ecs:${local.region}:${local.account}:service/*/${var.name_prefix}-*" },
      { Sid = "Cluster", Effect = "Allow", Action = ["ecs:DescribeClusters"],
      Resource = "${local.arn}:ecs:${local.region}:${local.account}:cluster/*" },
      { Sid = "StoppedTasks", Effect = "Allow", Action = ["ecs:ListTasks", "ecs:DescribeTasks"], Resource = "*" },
      { Sid = "FindTaggedResources", Effect = "Allow", Action = ["tag:GetResources"], Resource = "*" },
      { Sid = "ReadCertificates", Effect = "Allow", Action = ["acm:DescribeCertificate"],
      Resource = "${local.arn}:acm:${local.region}:${local.account}:certificate/*" },
      { Sid = "PassTaskRolesToEcs", Effect = "Allow", Action = ["iam:PassRole"],
        Resource  = "${local.arn}:iam::${local.account}:role/*",
      Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } } },
      { Sid = "ReadLoadBalancing", Effect = "Allow",
        Action = ["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags"],
      Resource = "*" },
      { Sid = "EnvironmentTargetGroups", Effect = "Allow",
        Action = ["elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:AddTags"],
      Resource = "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:targetgroup/${var.name_prefix}*/*" },
      { Sid = "SharedListenerRules", Effect = "Allow",
        Action = ["elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:AddTags"],
        Resource = [
          "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:listener/app/*/*/*",
          "${local.arn}:elasticloadbalancing:${local.region}:${local.account}:listener-rule/app/*/*/*/*",
      ] },
      { Sid = "Zone", Effect = "Allow",
        Action   = ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"],
      Resource = "${local.arn}:route53:::hostedzone/${var.dynamic_zone_id}" },
      { Sid = "RecordChanges", Effect = "Allow", Action = ["route53:GetChange"],
      Resource = "${local.arn}:route53:::change/*" },
      { Sid = "ReadImages", Effect = "Allow", Action = ["ecr:DescribeImages"],
      Resource = "${local.arn}:ecr:*:${local.account}:repository/*" },
      { Sid = "EnvironmentsFile", Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"],
      Resource = "${local.arn}:s3:::${var.endpoints_bucket_name}/*" },
      { Sid = "StateTable", Effect = "Allow",
        Action   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query"],
      Resource = [data.aws_dynamodb_table.state.arn, "${data.aws_dynamodb_table.state.arn}/index/*"] },
    ]
  })
}

resource "aws_lambda_function" "api" {
  function_name    = var.name
  role             = aws_iam_role.function.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["x86_64"]
  memory_size      = 256
  timeout          = 29
  filename         = local.package
  source_code_hash = var.lambda_package_url != "" ? null : filebase64sha256(local.package)
  environment {
    variables = {
      EDEN_API_KEYS = random_password.api_key.result
      EDEN_TABLE    = var.table_name
    }
  }
  depends_on = [terraform_data.package]
}

resource "aws_api_gateway_rest_api" "api" {
  name = var.name
}

resource "aws_api_gateway_resource" "proxy" {
  rest_api_id = aws_api_gateway_rest_api.api.id
  parent_id   = aws_api_gateway_rest_api.api.root_resource_id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_method" "proxy" {
  rest_api_id      = aws_api_gateway_rest_api.api.id
  resource_id      = aws_api_gateway_resource.proxy.id
  http_method      = "ANY"
  authorization    = "NONE"
  api_key_required = true
}

resource "aws_api_gateway_integration" "proxy" {
  rest_api_id             = aws_api_gateway_rest_api.api.id
  resource_id             = aws_api_gateway_resource.proxy.id
  http_method             = aws_api_gateway_method.proxy.http_method
  integration_http_method = "POST"
  type                    = "AWS_PROXY"
  uri                     = aws_lambda_function.api.invoke_arn
}

resource "aws_api_gateway_deployment" "api" {
  rest_api_id = aws_api_gateway_rest_api.api.id
  triggers    = { redeploy = sha1(jsonencode([aws_api_gateway_method.proxy.id, aws_api_gateway_integration.proxy.id])) }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "api" {
  rest_api_id   = aws_api_gateway_rest_api.api.id
  deployment_id = aws_api_gateway_deployment.api.id
  stage_name    = "api"
}

resource "aws_lambda_permission" "api" {
  statement_id  = "api-gateway"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.api.execution_arn}/*/*"
}

# One key, as the seed's module: API Gateway checks it, and eden checks it again.
resource "aws_api_gateway_api_key" "api" {
  name  = var.name
  value = random_password.api_key.result
}

resource "aws_api_gateway_usage_plan" "api" {
  name = var.name
  api_stages {
    api_id = aws_api_gateway_rest_api.api.id
    stage  = aws_api_gateway_stage.api.stage_name
  }
}

resource "aws_api_gateway_usage_plan_key" "api" {
  key_id        = aws_api_gateway_api_key.api.id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.api.id
}

resource "aws_api_gateway_domain_name" "api" {
  count                    = var.api_domain_name != "" ? 1 : 0
  domain_name              = var.api_domain_name
  regional_certificate_arn = var.api_acm_certificate_arn
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_base_path_mapping" "api" {
  count       = var.api_domain_name != "" ? 1 : 0
  api_id      = aws_api_gateway_rest_api.api.id
  stage_name  = aws_api_gateway_stage.api.stage_name
  domain_name = aws_api_gateway_domain_name.api[0].domain_name
}

resource "aws_route53_record" "api" {
  count   = var.api_domain_name != "" ? 1 : 0
  zone_id = var.api_zone_id
  name    = var.api_domain_name
  type    = "A"
  alias {
    name                   = aws_api_gateway_domain_name.api[0].regional_domain_name
    zone_id                = aws_api_gateway_domain_name.api[0].regional_zone_id
    evaluate_target_health = false
  }
}
