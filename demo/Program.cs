using Gateway.DemoUpstream;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls(builder.Configuration["Urls"] ?? "http://localhost:5080");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(new PostArchive(postCount: 10_000, userCount: 500));

var app = builder.Build();
app.MapSocialPostsApi();
app.Run();
