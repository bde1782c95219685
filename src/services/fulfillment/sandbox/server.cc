#include "services/fulfillment/sandbox/server.h"

#include "platform/http/problem.h"
#include "platform/http/server.h"
#include "platform/metrics/metrics.h"

namespace emporium::fulfillment::sandbox {

SandboxServer::SandboxServer(SandboxOptions options)
    : options_(std::move(options)),
      metrics_(std::make_unique<metrics::Registry>()),
      router_(std::make_unique<http::Router>()) {
  bool rapid = options_.kind == Kind::kRapidship;
  SimulatorOptions sim{.carrier = rapid ? "rapidship" : "cargoline",
                       .tracking_prefix = rapid ? "1RS" : "CL",
                       .step = options_.step,
                       .webhook_url = options_.webhook_url,
                       .secret = options_.secret,
                       .max_attempts = 10};
  sim_ = std::make_unique<Simulator>(
      std::move(sim), rapid ? RenderWebhook(RenderRapidshipWebhook) : RenderWebhook(RenderCargolineWebhook),
      options_.database);
}

SandboxServer::~SandboxServer() {
  Stop();
}

Status SandboxServer::Start() {
  bool rapid = options_.kind == Kind::kRapidship;
  EMP_RETURN_IF_ERROR(rapid ? AddRapidshipRoutes(*router_, *sim_) : AddCargolineRoutes(*router_, *sim_));
  EMP_RETURN_IF_ERROR(AddControlRoutes(*router_, *sim_));
  std::string carrier = rapid ? "rapidship" : "cargoline";
  EMP_RETURN_IF_ERROR(router_->Add(http::Method::kGet, "/labels/{file}", [this, carrier](http::Request& req) {
    return LabelResponse(*sim_, carrier, req.PathParam("file").value_or(""));
  }));
  http::ServerOptions o;
  o.host = options_.host;
  o.port = options_.port;
  o.threads = 1;
  o.blocking_threads = 4;
  o.access_log = options_.access_log;
  o.service_name = carrier + "-sandbox";
  server_ = std::make_unique<http::Server>(o, *router_, *metrics_);
  EMP_RETURN_IF_ERROR(server_->Start());
  sim_->set_public_url(url());
  if (Status s = sim_->Start(); !s.ok()) {
    server_->Shutdown();
    return s;
  }
  return Status::Ok();
}

void SandboxServer::Stop() {
  if (sim_) sim_->Stop();
  if (server_) server_->Shutdown();
}

uint16_t SandboxServer::port() const {
  return server_ ? server_->port() : 0;
}

std::string SandboxServer::url() const {
  return "http://" + options_.host + ":" + std::to_string(port());
}

http::Response LabelResponse(Simulator& sim, const std::string& carrier, std::string_view file) {
  std::string_view tracking = file.substr(0, file.find('.'));
  auto parcel = sim.Find(std::string(tracking));
  if (!parcel) return http::Problem(404, "no such label");
  std::string text = carrier + " shipping label\ntracking: " + parcel->tracking_number +
                     "\nservice: " + parcel->service + "\nreference: " + parcel->reference + "\n";
  return http::Response::Text(200, std::move(text));
}

}  // namespace emporium::fulfillment::sandbox
