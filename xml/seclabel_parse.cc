#include "xml/seclabel_parse.h"

#include <unordered_set>

#include "core/error.h"
#include "core/security_models.h"
#include "xml/labels.h"
#include "xml/node_util.h"

namespace seclabel {

namespace {

// libvirt's VIR_SECURITY_MODEL_BUFLEN.
constexpr std::size_t kMaxModelLength = 256;

std::string parseModel(pugi::xml_node node, std::string_view model) {
  checkAt(node, [&] { checkLabelText(model, "security model"); });
  if (model.size() > kMaxModelLength) {
    failAt(node, "security model is longer than " + std::to_string(kMaxModelLength) + " bytes");
  }
  return std::string(model);
}

bool parseYesNo(pugi::xml_node node, std::string_view value, const char* what) {
  if (value == "yes") return true;
  if (value == "no") return false;
  failAt(node, std::string("invalid security ") + what + " value " + quote(value));
}

// The text of the first child element `name`; nullopt when absent or empty
// (libvirt's virXPathString treats an empty string as absent).
std::optional<std::string> optionalLabel(pugi::xml_node seclabel, const char* name,
                                         std::string_view model) {
  auto child = seclabel.child(name);
  if (!child) return std::nullopt;
  std::string text = elementText(child);
  if (text.empty()) return std::nullopt;
  checkAt(child, [&] { checkLabelForModel(model, text, name); });
  return text;
}

Seclabel parseDomainSeclabel(pugi::xml_node node, XmlForm form) {
  Seclabel seclabel;
  if (auto model = attributeValue(node, "model")) {
    seclabel.model = parseModel(node, *model);
  } else {
    seclabel.modelImplicit = true;
  }

  seclabel.type = SeclabelType::Dynamic;
  if (auto type = attributeValue(node, "type")) {
    if (*type == "dynamic") {
      seclabel.type = SeclabelType::Dynamic;
    } else if (*type == "static") {
      seclabel.type = SeclabelType::Static;
    } else if (*type == "none") {
      seclabel.type = SeclabelType::None;
    } else {
      failAt(node, "invalid security type " + quote(*type));
    }
  }

  seclabel.relabel = seclabel.type == SeclabelType::Dynamic;
  if (auto relabel = attributeValue(node, "relabel")) {
    seclabel.relabel = parseYesNo(node, *relabel, "relabel");
  }
  if (seclabel.type == SeclabelType::Dynamic && !seclabel.relabel) {
    failAt(node, "dynamic label type must use resource relabeling");
  }
  if (seclabel.type == SeclabelType::None && seclabel.relabel) {
    failAt(node, "resource relabeling is not compatible with 'none' label type");
  }

  // model='none' never carries labels. An inactive definition is coerced to
  // type none (libvirt: "fix older configurations"); live XML must say so.
  if (seclabel.model == kNoneModel) {
    if (form == XmlForm::Inactive) {
      seclabel.type = SeclabelType::None;
      seclabel.relabel = false;
    } else if (seclabel.type != SeclabelType::None) {
      failAt(node, std::string("unsupported type='") + toString(seclabel.type) +
                       "' to model 'none'");
    }
    return seclabel;
  }

  // A dynamic label is generated at prepare time: an inactive definition's
  // <label>/<imagelabel> are leftovers and ignored, live XML carries them.
  bool live = form == XmlForm::Live;
  if (seclabel.type == SeclabelType::Static ||
      (live && seclabel.type != SeclabelType::None)) {
    seclabel.label = optionalLabel(node, "label", seclabel.model);
    if (!seclabel.label && seclabel.type == SeclabelType::Static) {
      failAt(node, "security label is missing");
    }
  }
  if (seclabel.relabel && live && seclabel.type != SeclabelType::None) {
    seclabel.imagelabel = optionalLabel(node, "imagelabel", seclabel.model);
  }
  if (seclabel.type == SeclabelType::Dynamic) {
    seclabel.baselabel = optionalLabel(node, "baselabel", seclabel.model);
    // Stricter than libvirt, which keeps it and lets the DAC driver ignore it.
    if (seclabel.baselabel && !seclabel.model.empty() && seclabel.model != kSelinuxModel) {
      failAt(node.child("baselabel"),
             "a base label is only supported by the selinux model, not " +
                 quote(seclabel.model));
    }
  }
  return seclabel;
}

}  // namespace

void checkLabelForModel(std::string_view model, std::string_view text, std::string_view what) {
  if (model == kSelinuxModel) {
    SelinuxContext::parse(text);
  } else if (model == kDacModel) {
    DacLabelSpec::parse(text);
  } else {
    checkLabelText(text, what);
  }
}

void checkSeclabelLabels(const Seclabel& seclabel) {
  if (seclabel.label) checkLabelForModel(seclabel.model, *seclabel.label, "label");
  if (seclabel.imagelabel) checkLabelForModel(seclabel.model, *seclabel.imagelabel, "imagelabel");
  if (seclabel.baselabel) checkLabelForModel(seclabel.model, *seclabel.baselabel, "baselabel");
}

std::vector<Seclabel> parseDomainSeclabels(pugi::xml_node domain, XmlForm form) {
  std::vector<Seclabel> seclabels;
  std::vector<pugi::xml_node> nodes;
  std::unordered_set<std::string> models;  // hashed: the count is unbounded
  for (auto node : domain.children("seclabel")) {
    Seclabel seclabel = parseDomainSeclabel(node, form);
    if (!seclabel.model.empty() && !models.insert(seclabel.model).second) {
      failAt(node, "seclabel for model " + seclabel.model + " is already provided");
    }
    seclabels.push_back(std::move(seclabel));
    nodes.push_back(node);
  }
  if (seclabels.size() > 1) {
    for (std::size_t i = 0; i < seclabels.size(); ++i) {
      if (seclabels[i].model.empty()) {
        failAt(nodes[i], "missing security model when using multiple labels");
      }
    }
  }
  // A lone seclabel without a model takes the first driver's model, but only
  // when nothing in it depends on the model (libvirt's rule: type none, or
  // dynamic without a base label). A static label's syntax is the model's.
  if (seclabels.size() == 1 && seclabels[0].model.empty()) {
    const Seclabel& only = seclabels[0];
    if (only.type == SeclabelType::Static ||
        (only.type == SeclabelType::Dynamic && only.baselabel)) {
      failAt(nodes[0], "missing security model in domain seclabel");
    }
  }
  return seclabels;
}

DeviceSeclabelRules DeviceSeclabelRules::of(const std::vector<Seclabel>& domainSeclabels,
                                            XmlForm form) {
  DeviceSeclabelRules rules;
  rules.form = form;
  for (const auto& seclabel : domainSeclabels) {
    if (!seclabel.model.empty() && !seclabel.relabel) rules.modelsWithoutRelabel.insert(seclabel.model);
  }
  return rules;
}

std::vector<DeviceSeclabel> parseDeviceSeclabels(pugi::xml_node source,
                                                 const DeviceSeclabelRules& rules) {
  const XmlForm form = rules.form;
  std::vector<DeviceSeclabel> seclabels;
  std::unordered_set<std::string> models;  // "" stands for "every model"
  for (auto node : source.children("seclabel")) {
    DeviceSeclabel seclabel;
    if (auto model = attributeValue(node, "model")) seclabel.model = parseModel(node, *model);
    if (!models.insert(seclabel.model).second) {
      failAt(node, seclabel.model.empty()
                       ? std::string("seclabel without a model is already provided")
                       : "seclabel for model " + seclabel.model + " is already provided");
    }
    if (auto relabel = attributeValue(node, "relabel")) {
      seclabel.relabel = parseYesNo(node, *relabel, "relabel");
    }
    // libvirt reads labelskip only from live XML (it records that a shared
    // image was left alone); an inactive definition's value is ignored.
    if (auto labelskip = attributeValue(node, "labelskip")) {
      bool value = parseYesNo(node, *labelskip, "labelskip");
      if (form == XmlForm::Live) seclabel.labelskip = value;
    }
    if (auto label = node.child("label")) {
      std::string text = elementText(label);
      if (!text.empty()) {
        if (seclabel.relabel == false) {
          failAt(node, "Cannot specify a label if relabelling is turned off. model=" +
                           (seclabel.model.empty() ? std::string("<null>") : seclabel.model));
        }
        checkAt(label, [&] { checkLabelForModel(seclabel.model, text, "label"); });
        seclabel.label = std::move(text);
      }
    }
    if (!seclabel.model.empty() && rules.modelsWithoutRelabel.count(seclabel.model)) {
      failAt(node, kOverrideNeedsRelabel);
    }
    seclabels.push_back(std::move(seclabel));
  }
  return seclabels;
}

}  // namespace seclabel
