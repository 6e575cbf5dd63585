// Resources: disks, backing chains, kernel/initrd, serial/console, and the
// device-level <source><seclabel> overrides.
#include "xml_test_util.h"

namespace seclabel {
namespace {

using testing::diskXml;
using testing::domainXml;

std::string devicesXml(const std::string& devices) {
  return domainXml("  <devices>\n" + devices + "  </devices>\n");
}

// ---- disks -------------------------------------------------------------------------

TEST(Disk, ReadsFileSourceTargetAndFormat) {
  auto domain = parseDomainXml(devicesXml(
      "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
      "<source file='/var/lib/images/a.qcow2'/><target dev='vda' bus='virtio'/></disk>"));
  ASSERT_EQ(domain.disks.size(), 1u);
  const Disk& disk = domain.disks[0];
  EXPECT_EQ(disk.device, "disk");
  EXPECT_EQ(disk.target, "vda");
  ASSERT_TRUE(disk.source);
  EXPECT_EQ(disk.source->kind, DiskSourceKind::File);
  EXPECT_EQ(disk.source->path, "/var/lib/images/a.qcow2");
  EXPECT_EQ(disk.source->format, "qcow2");
  EXPECT_FALSE(disk.readonly);
  EXPECT_FALSE(disk.shareable);
  EXPECT_EQ(domain.diskByTarget("vda"), &disk);
  EXPECT_EQ(domain.diskByTarget("vdz"), nullptr);
}

TEST(Disk, ReadsBlockSource) {
  auto domain = parseDomainXml(
      devicesXml("<disk type='block'><source dev='/dev/vg0/lv'/><target dev='sda'/></disk>"));
  EXPECT_EQ(domain.disks[0].source->kind, DiskSourceKind::Block);
  EXPECT_EQ(domain.disks[0].source->path, "/dev/vg0/lv");
}

TEST(Disk, TypeDefaultsToFile) {
  auto domain = parseDomainXml(devicesXml("<disk><source file='/i/a'/><target dev='sda'/></disk>"));
  EXPECT_EQ(domain.disks[0].source->kind, DiskSourceKind::File);
}

TEST(Disk, ReadsReadonlyAndShareable) {
  auto domain = parseDomainXml(devicesXml(
      "<disk type='file' device='cdrom'><source file='/i/a.iso'/><target dev='hdc'/><readonly/></disk>"
      "<disk type='file'><source file='/i/b.img'/><target dev='vdb'/><shareable/></disk>"));
  EXPECT_EQ(domain.disks[0].device, "cdrom");
  EXPECT_TRUE(domain.disks[0].readonly);
  EXPECT_FALSE(domain.disks[0].shareable);
  EXPECT_TRUE(domain.disks[1].shareable);
}

TEST(Disk, EmptyCdromHasNoSource) {
  auto domain = parseDomainXml(devicesXml(
      "<disk type='file' device='cdrom'><target dev='hdc'/><readonly/></disk>"
      "<disk type='file' device='cdrom'><source file=''/><target dev='hdd'/></disk>"));
  EXPECT_FALSE(domain.disks[0].source);
  EXPECT_FALSE(domain.disks[1].source);
}

TEST(Disk, SkipsDisksWithoutLocalPath) {
  auto domain = parseDomainXml(devicesXml(
      "<disk type='network'><source protocol='nbd' name='x'><host name='h'/></source><target dev='vda'/></disk>"
      "<disk type='file'><source file='/i/a'/><target dev='vdb'/></disk>"));
  ASSERT_EQ(domain.disks.size(), 1u);
  EXPECT_EQ(domain.disks[0].target, "vdb");
}

TEST(Disk, ManyDisksParseInLinearTime) {
  // A quadratic duplicate check would take minutes here (and hours at 16 MiB).
  std::string disks;
  for (int i = 0; i < 50000; ++i) {
    disks += "<disk><source file='/i/" + std::to_string(i) + "'/><target dev='d" + std::to_string(i) +
             "'/><backingStore/></disk>";
  }
  auto domain = parseDomainXml(devicesXml(disks));
  ASSERT_EQ(domain.disks.size(), 50000u);
  EXPECT_EQ(domain.diskByTarget("d49999")->source->path, "/i/49999");
}

TEST(Disk, RejectsUnknownType) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<disk type='tape'><target dev='a'/></disk>")),
                       "/domain/devices/disk[1]: unknown disk type 'tape'");
}

TEST(Disk, RejectsUnknownDevice) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(devicesXml("<disk type='file' device='disc'><target dev='a'/></disk>")),
      "/domain/devices/disk[1]: unknown disk device 'disc'");
}

TEST(Disk, RejectsMissingTarget) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<disk type='file'><source file='/i/a'/></disk>")),
                       "/domain/devices/disk[1]: missing target information for device /i/a");
}

TEST(Disk, RejectsDuplicateTarget) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml(
                           "<disk><source file='/i/a'/><target dev='vda'/></disk>"
                           "<disk><source file='/i/b'/><target dev='vdb'/></disk>"
                           "<disk><source file='/i/c'/><target dev='vda'/></disk>")),
                       "/domain/devices/disk[3]: target 'vda' duplicated for disk sources '/i/a' and '/i/c'");
}

TEST(Disk, RejectsRelativeSourcePath) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<disk><source file='a.img'/><target dev='vda'/></disk>")),
                       "/domain/devices/disk[1]/source: disk source path 'a.img' is not absolute");
}

TEST(Disk, RejectsSourcePathWithControlCharacter) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(devicesXml("<disk><source file='/i/a&#9;b'/><target dev='vda'/></disk>")),
      "/domain/devices/disk[1]/source: disk source path contains the control character 0x09");
}

// ---- backing chains ----------------------------------------------------------------

TEST(BackingChain, ReadsEveryLayerTopMostFirst) {
  auto domain = parseDomainXml(diskXml(
      "", "<backingStore type='file' index='1'><format type='qcow2'/><source file='/i/mid.qcow2'/>"
          "<backingStore type='block' index='2'><format type='raw'/><source dev='/dev/sdb'/>"
          "<backingStore/></backingStore></backingStore>"));
  const auto& chain = domain.disks[0].backingChain;
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].path, "/i/mid.qcow2");
  EXPECT_EQ(chain[0].kind, DiskSourceKind::File);
  EXPECT_EQ(chain[0].format, "qcow2");
  EXPECT_EQ(chain[1].path, "/dev/sdb");
  EXPECT_EQ(chain[1].kind, DiskSourceKind::Block);
  EXPECT_EQ(chain[1].format, "raw");
}

TEST(BackingChain, EmptyBackingStoreEndsTheChain) {
  auto domain = parseDomainXml(diskXml("", "<backingStore/>"));
  EXPECT_TRUE(domain.disks[0].backingChain.empty());
}

TEST(BackingChain, StopsAtNetworkLayer) {
  auto domain = parseDomainXml(diskXml(
      "", "<backingStore type='network'><format type='raw'/><source protocol='nbd' name='x'/>"
          "<backingStore type='file'><format type='raw'/><source file='/i/deep'/></backingStore>"
          "</backingStore>"));
  EXPECT_TRUE(domain.disks[0].backingChain.empty());
}

TEST(BackingChain, EachLayerHasItsOwnSeclabels) {
  auto domain = parseDomainXml(diskXml(
      "<seclabel model='dac' relabel='no'/>",
      "<backingStore type='file'><format type='raw'/><source file='/i/base'>"
      "<seclabel model='selinux'><label>u:object_r:virt_content_t:s0</label></seclabel>"
      "</source></backingStore>"));
  const Disk& disk = domain.disks[0];
  EXPECT_EQ(disk.source->seclabelFor("dac")->relabel, false);
  EXPECT_EQ(disk.source->seclabelFor("selinux"), nullptr);
  EXPECT_EQ(disk.backingChain[0].seclabelFor("selinux")->label, "u:object_r:virt_content_t:s0");
}

TEST(BackingChain, HandlesLongChainsWithoutRecursion) {
  std::string open, close;
  for (int i = 0; i < 5000; ++i) {
    open += "<backingStore type='file'><format type='qcow2'/><source file='/i/l" + std::to_string(i) + "'/>";
    close += "</backingStore>";
  }
  auto domain = parseDomainXml(diskXml("", open + close));
  ASSERT_EQ(domain.disks[0].backingChain.size(), 5000u);
  EXPECT_EQ(domain.disks[0].backingChain.back().path, "/i/l4999");
}

TEST(BackingChain, RejectsLayerWithoutType) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(diskXml("", "<backingStore><format type='raw'/><source file='/i/b'/></backingStore>")),
      "/domain/devices/disk[1]/backingStore: missing disk backing store type");
}

TEST(BackingChain, RejectsLayerWithoutFormat) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(diskXml("", "<backingStore type='file'><source file='/i/b'/></backingStore>")),
      "/domain/devices/disk[1]/backingStore: missing disk backing store format");
}

TEST(BackingChain, RejectsLayerSourceWithoutPath) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(diskXml("", "<backingStore type='block'><format type='raw'/><source file='/x'/></backingStore>")),
      "/domain/devices/disk[1]/backingStore/source: missing dev attribute of the backing store source");
}

TEST(BackingChain, RejectsUnknownLayerType) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(diskXml("", "<backingStore type='tape'><format type='raw'/><source file='/x'/></backingStore>")),
      "/domain/devices/disk[1]/backingStore: unknown disk type 'tape'");
}

TEST(BackingChain, NamesNestedLayerInErrors) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(diskXml("", "<backingStore type='file'><format type='raw'/><source file='/i/b'/>"
                                 "<backingStore type='file'><format type='raw'/><source file='rel'/>"
                                 "</backingStore></backingStore>")),
      "/domain/devices/disk[1]/backingStore/backingStore/source: disk source path 'rel' is not absolute");
}

// ---- kernel, initrd, serial, console ------------------------------------------------

TEST(OsPaths, ReadsKernelAndInitrd) {
  auto domain = parseDomainXml(
      "<domain type='kvm'><name>a</name><os><type>hvm</type><kernel>/boot/vmlinuz</kernel>"
      "<initrd>/boot/initrd</initrd></os></domain>");
  ASSERT_TRUE(domain.kernel);
  EXPECT_EQ(domain.kernel->path, "/boot/vmlinuz");
  ASSERT_TRUE(domain.initrd);
  EXPECT_EQ(domain.initrd->path, "/boot/initrd");
}

TEST(OsPaths, AbsentWithoutDirectKernelBoot) {
  auto domain = parseDomainXml("<domain type='kvm'><name>a</name><os><type>hvm</type></os></domain>");
  EXPECT_FALSE(domain.kernel);
  EXPECT_FALSE(domain.initrd);
}

TEST(OsPaths, RejectsRelativeInitrd) {
  EXPECT_INVALID_INPUT(
      parseDomainXml("<domain type='kvm'><name>a</name><os><initrd>initrd.img</initrd></os></domain>"),
      "/domain/os/initrd: initrd path 'initrd.img' is not absolute");
}

TEST(Chardev, ReadsFileBackedSerialAndUnixConsole) {
  auto domain = parseDomainXml(devicesXml(
      "<serial type='file'><source path='/var/log/s.log'><seclabel model='dac' relabel='no'/></source></serial>"
      "<serial type='pty'><target port='1'/></serial>"
      "<console type='unix'><source mode='bind' path='/run/c.sock'/></console>"));
  ASSERT_EQ(domain.chardevs.size(), 2u);
  EXPECT_EQ(domain.chardevs[0].path, "/var/log/s.log");
  EXPECT_EQ(domain.chardevs[0].seclabelFor("dac")->relabel, false);
  EXPECT_EQ(domain.chardevs[1].path, "/run/c.sock");
}

TEST(Chardev, IgnoresPtyPathOfLiveXml) {
  auto domain = parseDomainXml(devicesXml("<console type='pty'><source path='/dev/pts/3'/></console>"));
  EXPECT_TRUE(domain.chardevs.empty());
}

TEST(Chardev, RejectsFileSerialWithoutPath) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<serial type='file'><target port='0'/></serial>")),
                       "/domain/devices/serial[1]: missing source path for character device of type 'file'");
}

TEST(Chardev, RejectsRelativePath) {
  EXPECT_INVALID_INPUT(parseDomainXml(devicesXml("<console type='file'><source path='c.log'/></console>")),
                       "/domain/devices/console[1]/source: character device path 'c.log' is not absolute");
}

// ---- device-level seclabels ----------------------------------------------------------

TEST(DeviceSeclabel, ReadsModelRelabelAndLabel) {
  auto domain = parseDomainXml(diskXml(
      "<seclabel model='selinux' relabel='yes'><label>u:object_r:t:s0:c1,c2</label></seclabel>"));
  const DeviceSeclabel* seclabel = domain.disks[0].source->seclabelFor("selinux");
  ASSERT_NE(seclabel, nullptr);
  EXPECT_EQ(seclabel->model, "selinux");
  EXPECT_EQ(seclabel->relabel, true);
  EXPECT_EQ(seclabel->label, "u:object_r:t:s0:c1,c2");
}

TEST(DeviceSeclabel, RelabelUnsetInheritsTheDomains) {
  auto domain = parseDomainXml(diskXml("<seclabel model='dac'/>"));
  EXPECT_FALSE(domain.disks[0].source->seclabels[0].relabel.has_value());
}

TEST(DeviceSeclabel, ModelSpecificOverrideWinsOverModelless) {
  auto domain = parseDomainXml(diskXml("<seclabel relabel='no'/><seclabel model='dac' relabel='yes'/>"));
  const DiskSource& source = *domain.disks[0].source;
  EXPECT_EQ(source.seclabelFor("dac")->relabel, true);
  EXPECT_EQ(source.seclabelFor("selinux")->relabel, false);
}

TEST(DeviceSeclabel, RejectsSecondOverrideForSameModel) {
  EXPECT_INVALID_INPUT(parseDomainXml(diskXml("<seclabel model='selinux'/><seclabel model='selinux'/>")),
                       "/domain/devices/disk[1]/source/seclabel[2]: seclabel for model selinux is already provided");
}

TEST(DeviceSeclabel, RejectsSecondModellessOverride) {
  EXPECT_INVALID_INPUT(parseDomainXml(diskXml("<seclabel/><seclabel relabel='no'/>")),
                       "/domain/devices/disk[1]/source/seclabel[2]: seclabel without a model is already provided");
}

TEST(DeviceSeclabel, RejectsLabelWithRelabelOff) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(diskXml("<seclabel model='dac' relabel='no'><label>+1:+1</label></seclabel>")),
      "/domain/devices/disk[1]/source/seclabel[1]: Cannot specify a label if relabelling is turned off. model=dac");
}

TEST(DeviceSeclabel, RejectsModellessLabelWithRelabelOff) {
  EXPECT_INVALID_INPUT(parseDomainXml(diskXml("<seclabel relabel='no'><label>x</label></seclabel>")),
                       "Cannot specify a label if relabelling is turned off. model=<null>");
}

TEST(DeviceSeclabel, RejectsUnknownRelabelValue) {
  EXPECT_INVALID_INPUT(parseDomainXml(diskXml("<seclabel relabel='off'/>")),
                       "/domain/devices/disk[1]/source/seclabel[1]: invalid security relabel value 'off'");
}

TEST(DeviceSeclabel, RejectsUnknownLabelskipValue) {
  EXPECT_INVALID_INPUT(parseDomainXml(diskXml("<seclabel labelskip='1'/>")),
                       "invalid security labelskip value '1'");
}

TEST(DeviceSeclabel, LabelskipIsReadOnlyFromLiveXml) {
  std::string xml = diskXml("<seclabel model='selinux' labelskip='yes'/>");
  EXPECT_FALSE(parseDomainXml(xml, XmlForm::Inactive).disks[0].source->seclabels[0].labelskip);
  EXPECT_TRUE(parseDomainXml(xml, XmlForm::Live).disks[0].source->seclabels[0].labelskip);
}

TEST(DeviceSeclabel, ChecksLabelSyntaxForItsModel) {
  EXPECT_INVALID_INPUT(parseDomainXml(diskXml("<seclabel model='dac'><label>qemu</label></seclabel>")),
                       "/domain/devices/disk[1]/source/seclabel[1]/label: DAC label 'qemu' is not user:group");
  EXPECT_INVALID_INPUT(
      parseDomainXml(diskXml("<seclabel model='selinux'><label>virt_image_t</label></seclabel>")),
      "/domain/devices/disk[1]/source/seclabel[1]/label: SELinux label 'virt_image_t' is not user:role:type:level");
}

TEST(DeviceSeclabel, EmptyLabelMeansNoLabel) {
  auto domain = parseDomainXml(diskXml("<seclabel model='dac' relabel='no'><label></label></seclabel>"));
  EXPECT_FALSE(domain.disks[0].source->seclabels[0].label);
}


// ---- overrides under a domain seclabel without relabeling ----------------------------
// libvirt (domain_validate.c, virSecurityDeviceLabelDefValidate): an override
// whose model equals that of a domain-level seclabel with relabel='no' is refused.

// One file disk whose <source> holds `sourceBody`, under the domain-level `seclabels`.
std::string overrideXml(const std::string& sourceBody, const std::string& seclabels) {
  return domainXml("  <devices>\n    <disk type='file'>\n      <source file='/i/a.img'>" + sourceBody +
                   "</source>\n      <target dev='vda'/>\n    </disk>\n  </devices>\n" + seclabels);
}

const std::string kStaticSelinuxNoRelabel =
    "<seclabel type='static' model='selinux' relabel='no'>"
    "<label>system_u:system_r:svirt_t:s0:c1,c2</label></seclabel>";

TEST(LabelOverride, RejectsOverrideOfAModelWhoseDomainSeclabelDoesNotRelabel) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(overrideXml("<seclabel model='selinux' relabel='yes'/>", kStaticSelinuxNoRelabel)),
      "/domain/devices/disk[1]/source/seclabel[1]: label overrides require relabeling to be enabled "
      "at the domain level");
}

TEST(LabelOverride, RejectsEvenAnOverrideThatTurnsRelabelingOff) {
  EXPECT_INVALID_INPUT(
      parseDomainXml(overrideXml("<seclabel model='selinux' relabel='no'/>", kStaticSelinuxNoRelabel)),
      "label overrides require relabeling to be enabled at the domain level");
}

TEST(LabelOverride, RejectsOverrideInABackingLayer) {
  std::string xml = domainXml(
      "  <devices><disk type='file'><source file='/i/top'/><backingStore type='file'>"
      "<format type='raw'/><source file='/i/base'><seclabel model='selinux'/></source>"
      "</backingStore><target dev='vda'/></disk></devices>\n" + kStaticSelinuxNoRelabel);
  EXPECT_INVALID_INPUT(parseDomainXml(xml),
                       "/domain/devices/disk[1]/backingStore/source/seclabel[1]: label overrides require");
}

TEST(LabelOverride, RejectsOverrideOfACharacterDevice) {
  std::string xml = domainXml(
      "  <devices><serial type='file'><source path='/var/log/s.log'><seclabel model='dac'/></source>"
      "</serial></devices>\n<seclabel type='static' model='dac' relabel='no'><label>+1:+1</label></seclabel>");
  EXPECT_INVALID_INPUT(parseDomainXml(xml),
                       "/domain/devices/serial[1]/source/seclabel[1]: label overrides require");
}

TEST(LabelOverride, RejectsOverrideOfModelNone) {
  EXPECT_INVALID_INPUT(parseDomainXml(overrideXml("<seclabel model='none'/>", "<seclabel model='none'/>")),
                       "label overrides require relabeling to be enabled at the domain level");
}

TEST(LabelOverride, AcceptsOverrideOfAnotherModel) {
  auto domain = parseDomainXml(overrideXml("<seclabel model='dac' relabel='no'/>", kStaticSelinuxNoRelabel));
  EXPECT_EQ(domain.disks[0].source->seclabels.size(), 1u);
}

TEST(LabelOverride, AcceptsModellessOverrideAsLibvirtComparesModels) {
  auto domain = parseDomainXml(overrideXml("<seclabel relabel='no'/>", kStaticSelinuxNoRelabel));
  EXPECT_EQ(domain.disks[0].source->seclabels.size(), 1u);
}

TEST(LabelOverride, AcceptsOverrideWhenTheDomainRelabels) {
  auto domain = parseDomainXml(overrideXml(
      "<seclabel model='selinux' relabel='no'/>",
      "<seclabel type='static' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:s0:c1,c2</label>"
      "</seclabel>"));
  EXPECT_EQ(domain.disks[0].source->seclabels.size(), 1u);
}

TEST(LabelOverride, ChecksTheModelALoneSeclabelResolvesTo) {
  // libvirt fills a lone model-less seclabel with the host's first model at
  // parse time and validates afterwards; seclabel resolves it against the
  // configured drivers, so the rule is applied then.
  auto domain = parseDomainXml(overrideXml("<seclabel model='selinux'/>", "<seclabel type='none'/>"));
  EXPECT_INVALID_INPUT(resolveSeclabelModels(domain, {"selinux", "dac"}),
                       "/domain/seclabel[1]: label overrides require relabeling to be enabled at the domain "
                       "level: disk vda overrides model selinux");
}

TEST(LabelOverride, ResolvedModelOnlyConflictsWithItsOwnOverrides) {
  auto domain = parseDomainXml(overrideXml("<seclabel model='dac' relabel='no'/>", "<seclabel type='none'/>"));
  resolveSeclabelModels(domain, {"selinux", "dac"});
  EXPECT_EQ(domain.seclabels[0].model, "selinux");
}

}  // namespace
}  // namespace seclabel
