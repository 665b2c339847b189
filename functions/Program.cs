using Gateway.Core;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.Configuration.AddPlanCatalogFile();
builder.ConfigureFunctionsWebApplication();
builder.Services.AddGatewayCore(builder.Configuration);
builder.Build().Run();
