output "api_url" {
  description = "Base URL of the API: GET {api_url}/api/v1/create?name=...&image_uri=...&profile=..."
  value       = var.api_domain_name != "" ? "https://${var.api_domain_name}" : aws_api_gateway_stage.api.invoke_url
}

output "api_key" {
  description = "The x-api-key value."
  value       = random_password.api_key.result
  sensitive   = true
}
