# The seed's module inputs, and what eden's Rust function needs besides.

variable "name" {
  description = "Name of the function, its role and the API."
  type        = string
  default     = "eden"
}

variable "lambda_package_url" {
  description = "URL of a released eden.zip to download; leave empty to use lambda_package_path."
  type        = string
  default     = ""
}

variable "lambda_package_path" {
  description = "Local eden.zip from scripts/lambda-package, used when lambda_package_url is empty."
  type        = string
  default     = "../../target/lambda/eden.zip"
}

variable "api_domain_name" {
  description = "Host name of the API, for example dev-eden.example.com; empty for none."
  type        = string
  default     = ""
}

variable "api_acm_certificate_arn" {
  description = "Certificate for api_domain_name (in the API's region)."
  type        = string
  default     = ""
}

variable "api_zone_id" {
  description = "Route 53 zone of api_domain_name."
  type        = string
  default     = ""
}

variable "endpoints_bucket_name" {
  description = "Bucket of the environments file."
  type        = string
}

variable "dynamic_zone_id" {
  description = "Route 53 zone of the environment host names."
  type        = string
}

variable "name_prefix" {
  description = "The name_prefix shared by the profiles this API serves."
  type        = string
  default     = "dev-dynamic"
}

variable "table_name" {
  description = "The DynamoDB state table (created by `eden config push`)."
  type        = string
  default     = "eden"
}

variable "gc_schedule" {
  description = "How often EventBridge calls POST /api/v1/gc to delete expired environments (a schedule expression); empty for no schedule."
  type        = string
  default     = "rate(1 hour)"
}
